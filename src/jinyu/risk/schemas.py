"""Shared risk schemas: the regulator's inquiry indicators."""

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
