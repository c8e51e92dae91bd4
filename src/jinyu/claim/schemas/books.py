"""Models of the claim domain's books: prepaid ledger, reconciliation with hospitals, payout reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jinyu.claim.rules.ledger import BookMode, Fallback
from jinyu.claim.schemas.types import Amount, Code
from jinyu.governance.policy.schemas import Disclosure

# ------------------------------------------------------------------------------------------------ ledger


class LedgerBookIn(BaseModel):
    hospital_id: str = Field(min_length=1, max_length=32)
    product_year: int = Field(ge=2000, le=2100)
    mode: BookMode = BookMode.PREPAID
    fallback: Fallback = Fallback.ARREARS
    low_balance_threshold: Amount = Decimal("0")


class PrepaidLine(BaseModel):
    """预付金余额（按保险公司汇总）/ prepaid balances of one insurer's books, for the regulator's overview."""

    insurer_id: str
    books: int
    prepaid: Decimal
    held: Decimal
    payable: Decimal
    below_threshold: int = Field(description="余额低于预警线的账簿数 / books below their alert threshold")


class LedgerBookOut(BaseModel):
    id: str
    insurer_id: str
    hospital_id: str
    product_year: int
    mode: str
    fallback: str
    low_balance_threshold: Decimal
    balances: dict[str, Decimal]
    created_at: dt.datetime


class LedgerEntryIn(BaseModel):
    kind: Literal["deposit", "top_up", "clawback", "period_settlement"]
    amount: Amount | None = Field(default=None, description="期间结算无需金额 / not for period settlements")
    reference: str = Field(min_length=1, max_length=100, description="业务参考号，幂等键 / idempotency key")
    memo: str = Field(default="", max_length=500)

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v <= 0:
            raise ValueError("金额须为正数 / amount must be positive")
        return v


class PostingOut(BaseModel):
    account: str
    amount: Decimal


class JournalOut(BaseModel):
    id: str
    book_id: str
    kind: str
    reference: str
    settlement_id: str | None
    amount: Decimal
    memo: str
    at: dt.datetime
    postings: list[PostingOut]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    book_id: str
    insurer_id: str
    hospital_id: str
    kind: str
    balance: Decimal
    threshold: Decimal
    message: str
    at: dt.datetime
    resolved_at: dt.datetime | None


# ------------------------------------------------------------------------------------------------ reconciliation


class ReconRecord(BaseModel):
    mdtrt_id: Code
    setl_id: Code
    status: Literal["settled", "cancelled"]
    payout: Amount = Field(
        description="医院从账单中扣减的补充保险金额 / supplementary amount the hospital applied"
    )


class ReconFileIn(BaseModel):
    business_date: dt.date = Field(description="对账日（上海时间）/ business date, Asia/Shanghai")
    total_count: int = Field(ge=0, description="已结算笔数 / settled records")
    total_payout: Amount = Field(description="已结算补充保险金额合计 / sum of settled payouts")
    records: list[ReconRecord] = Field(default_factory=list, max_length=100_000)


class ReconItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    mdtrt_id: str
    setl_id: str
    finding: str
    settlement_id: str | None
    our_status: str | None
    our_amount: Decimal | None
    their_status: str | None
    their_amount: Decimal | None
    corrected: bool


class ReconRunOut(BaseModel):
    id: str
    hospital_id: str
    business_date: dt.date
    status: str
    totals_match: bool
    their_count: int
    their_total: Decimal
    our_count: int
    our_total: Decimal
    corrections: int
    discrepancies: int
    created_at: dt.datetime
    items: list[ReconItemOut]


# ------------------------------------------------------------------------------------------------ reports


class ReportRow(BaseModel):
    key: str
    count: int
    payout: Decimal
    premium: Decimal | None = None
    loss_ratio: Decimal | None = None


class ReportOut(BaseModel):
    by: str
    month_from: str | None
    month_to: str | None
    rows: list[ReportRow]
    total_count: int | None = Field(
        description="报告不足 k 人时不给出 / withheld when the report covers < k persons"
    )
    total_payout: Decimal | None
    total_premium: Decimal
    loss_ratio: Decimal | None
    k: int | None = Field(
        default=None,
        description="有行被抑制时的 k（最少人数）/ the minimum group size, when rows were suppressed",
    )
    suppressed_rows: int = Field(
        default=0, description="因不足 k 人（或为防反推）而抑制的行数 / rows left out: fewer than k persons"
    )
    totals_withheld: bool = False


class ConcentrationRow(BaseModel):
    hospital_id: str
    count: int
    payout: Decimal
    share: Decimal


class ConcentrationOut(BaseModel):
    top: int
    hospitals: list[ConcentrationRow]
    top_share: Decimal = Field(
        description="所列医院的赔付占比（被抑制者不计）/ payout share of the hospitals listed (suppressed excluded)"
    )
    hospital_count: int
    hhi: Decimal = Field(description="赫芬达尔指数 0–1 / Herfindahl-Hirschman index of payouts")
    disclosure: Disclosure | None = Field(
        default=None,
        description="因不足 k 人而未列出的医院 / hospitals not listed: fewer than k persons paid",
    )
