"""Shared risk schemas: the regulator's inquiry indicators."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class InquiryStat(BaseModel):
    """查询统计 / inquiries by bank and month: how many, how many risky, and the risky amount found."""

    bank_org_id: str
    bank_name: str
    month: str
    kind: str
    inquiries: int
    risky: int
    risky_amount: Decimal
