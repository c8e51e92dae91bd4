"""Shared risk schemas: the regulator's inquiry indicators, the bank's stored batch checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel


class InquiryOut(BaseModel):
    """一次核查查询 / one of the bank's own inquiries (its history)."""

    id: str
    kind: str
    subject: str
    verdict: str
    risky: bool
    risky_amount: Decimal
    org_id: str
    at: dt.datetime


class InquiryStat(BaseModel):
    """查询统计 / inquiries by bank and month: how many, how many risky, and the risky amount found."""

    bank_org_id: str
    bank_name: str
    month: str
    kind: str
    inquiries: int
    risky: int
    risky_amount: Decimal


class StoredBatchOut(BaseModel):
    """已保存的批量核查 / one stored batch check of the bank: what it covered and what it found (no loan)."""

    batch_id: str
    inquiry_id: str
    bank_code: str
    from_date: dt.date
    to_date: dt.date
    loans: int
    risky_loans: int
    at: dt.datetime
