"""Inputs and outputs of return-flow and misappropriation checks. Amounts are yuan with two decimals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Policy = Literal["pro_rata", "fifo"]
Pool = Literal["today", "balance"]
Analysis = Literal["return_flow", "misuse"]
Verdict = Literal["risky", "attention", "clean"]
ANALYSES: tuple[Analysis, ...] = ("return_flow", "misuse")


class TraceParams(BaseModel):
    """追踪参数 / how to trace. Defaults: pro rata, 3 hops, 30 days, dust 1,000 yuan."""

    policy: Policy = Field("pro_rata", description="传播策略 / propagation policy: pro_rata | fifo")
    pool: Pool = Field(
        "today",
        description="比例法的资金池 / pro rata's pool: today (money that moved through the account in the window) | "
        "balance (plus the money already there: balance of record rolled forward to the arrival); fifo ignores it",
    )
    max_hops: int = Field(3, ge=1, le=6, description="最大跳数 / hops to follow (1-6)")
    window_days: int = Field(30, ge=1, le=180, description="时间窗口（天）/ days after disbursement (1-180)")
    dust: Decimal = Field(
        Decimal("1000.00"),
        ge=0,
        le=Decimal("10000000"),
        max_digits=12,
        decimal_places=2,
        description="尘埃阈值（元）：低于此金额的追踪资金不再跟踪 / traced amounts below this are dropped",
    )
    hub_degree: int = Field(
        1000,
        ge=10,
        le=1_000_000,
        description="枢纽阈值：窗口内转出笔数达到此数的账户不再跟踪 / accounts with this many outgoing "
        "transfers in the window are hubs and not followed",
    )
    risk_share: Decimal = Field(
        Decimal("0.05"),
        gt=0,
        le=1,
        max_digits=5,
        decimal_places=4,
        description="风险比例阈值 / share of the loan that makes a finding risky",
    )
    top_paths: int = Field(5, ge=1, le=20, description="证据路径条数 / evidence paths to show")
    shell_age_days: int = Field(
        365, ge=30, le=1825, description="新设企业：放款前多少天内成立 / newly registered within these days"
    )


class LoanOut(BaseModel):
    loan_id: str
    bank_code: str
    borrower_uscc: str
    borrower_name: str | None
    amount: Decimal
    disbursed_at: dt.datetime
    term_months: int
    declared_purpose: str


class DataVersion(BaseModel):
    """数据版本 / which lake files the result was computed from."""

    fingerprint: str = Field(description="sha256 of the dataset file list (files are never rewritten)")
    files: int
    transfers_last_month: str | None


class Basis(BaseModel):
    """计算依据 / how the result was computed."""

    policy: Policy
    policy_text: str
    params: TraceParams
    data_version: DataVersion
    computed_at: dt.datetime
    method: str


class AmountLine(BaseModel):
    kind: str
    label: str
    amount: Decimal
    share: Decimal = Field(description="占贷款金额比例 / share of the loan amount")


class HopLine(BaseModel):
    hop: int
    amount: Decimal


class EvidenceStep(BaseModel):
    hop: int
    account: str = Field(
        description="本方账号；关联方掩码账号；其他账户为去标识化令牌 / own account, masked "
        "related account, or a pseudonymous token"
    )
    party: Literal["borrower", "related", "outside"]
    category: str | None
    category_label: str | None
    relation: str | None = None
    relation_label: str | None = None
    relation_source: str | None = Field(
        None,
        description="关联关系来源 / where the relation comes from: derived:<dataset> (registry, shareholder or "
        "guarantee data, chains of control) or declared:<relation kind>:<source> (related_parties)",
    )
    owner_name: str | None = None
    shell_indicators: list[str] = Field(default_factory=list)
    amount: Decimal = Field(description="经此步追踪到的金额 / traced amount carried into this account")
    first_at: dt.datetime


class EvidencePath(BaseModel):
    kind: str
    label: str
    amount: Decimal
    share: Decimal
    hops: int
    days: Decimal
    steps: list[EvidenceStep]


class RelatedParty(BaseModel):
    relation: str
    label: str
    accounts: int


class RefundAccount(BaseModel):
    account: str = Field(
        description="本方账号；关联方掩码账号；其他账户为去标识化令牌 / own account, masked related account, or a "
        "pseudonymous token"
    )
    party: Literal["borrower", "related", "outside"]


class RefundLine(BaseModel):
    """退款：收款方冲正贷款已支付的货款，不计入回流 / a refund: the payee reversed a purchase the loan paid (not
    return flow)."""

    hop: int = Field(description="退款到达付款方的跳数 / hop at which the refund reached the payer")
    payer: RefundAccount
    payee: RefundAccount
    amount: Decimal = Field(description="退款带回的追踪金额 / traced money the refunds carried back")
    share: Decimal
    purchase_txn_ids: list[str] = Field(description="被退款的付款流水 / the refunded purchases")
    reversal_txn_ids: list[str] = Field(description="退款流水 / the refunds")
    rule: str = Field(description="识别规则及版本 / the refund rule applied, with its version")


class ReturnFlowResult(BaseModel):
    """企业信贷资金回流核查结果 / return flow of a loan."""

    inquiry_id: str
    loan: LoanOut
    verdict: Verdict
    verdict_label: str
    returned_amount: Decimal
    returned_share: Decimal
    first_return_hops: int | None
    days_to_first_return: Decimal | None
    refunded_amount: Decimal = Field(
        description="识别为退款、未计入回流的金额 / traced money recognised as refunds, not counted as returned"
    )
    refunds: list[RefundLine] = Field(default_factory=list)
    by_relation: list[AmountLine]
    by_hop: list[HopLine]
    attribution: list[AmountLine] = Field(
        description="贷款资金去向全貌（合计等于贷款金额）/ where every fen went"
    )
    evidence: list[EvidencePath]
    related_parties: list[RelatedParty]
    basis: Basis


class MisuseLine(AmountLine):
    prohibited_for_purpose: bool
    rule: str = Field(
        description="所依据的用途矩阵版本与行 / the purpose-matrix version and line (purpose×kind) applied"
    )
    risky: bool
    first_hops: int | None
    days: Decimal | None


class PurposeCheck(BaseModel):
    declared_purpose: str
    declared_purpose_label: str
    expected_industries: list[str] | None
    first_hop_amount: Decimal
    consistent_amount: Decimal | None
    consistent_share: Decimal | None


class ShellOut(BaseModel):
    account: str
    party: Literal["related", "outside"]
    indicators: list[str]
    amount: Decimal


class MisuseResult(BaseModel):
    """企业信贷资金挪用核查结果 / misappropriation of a loan."""

    inquiry_id: str
    loan: LoanOut
    verdict: Verdict
    verdict_label: str
    misused_amount: Decimal
    misused_share: Decimal
    by_category: list[MisuseLine]
    purpose_matrix_version: int = Field(description="所用用途矩阵版本（0 为内置默认）/ matrix version used")
    purpose: PurposeCheck
    shells: list[ShellOut]
    attribution: list[AmountLine]
    evidence: list[EvidencePath]
    basis: Basis


class BatchRequest(TraceParams):
    """批量核查 / every loan of the caller's bank (or one of its branches) disbursed in a period."""

    from_date: dt.date = Field(description="放款日起（含）/ disbursed on or after (Asia/Shanghai)")
    to_date: dt.date = Field(description="放款日止（含）/ disbursed on or before (Asia/Shanghai)")
    bank_code: str | None = Field(None, description="本行内的机构编码，缺省为本机构 / a node of your bank")
    analyses: list[Analysis] = Field(default_factory=lambda: list(ANALYSES), min_length=1)

    @model_validator(mode="after")
    def _period(self) -> BatchRequest:
        if self.to_date < self.from_date:
            raise ValueError("to_date 早于 from_date / to_date is before from_date")
        if (self.to_date - self.from_date).days > 366:
            raise ValueError("期间最长一年 / the period is at most one year")
        return self


class BatchRow(BaseModel):
    loan_id: str
    bank_code: str
    borrower_uscc: str
    borrower_name: str | None
    amount: Decimal
    disbursed_at: dt.datetime
    declared_purpose: str
    returned_amount: Decimal | None
    returned_share: Decimal | None
    first_return_hops: int | None
    refunded_amount: Decimal | None = Field(
        None, description="识别为退款、未计入回流的金额 / traced money recognised as refunds (not returned)"
    )
    return_verdict: Verdict | None
    misused_amount: Decimal | None
    misused_share: Decimal | None
    top_misuse: str | None
    misuse_rule: str | None = Field(
        None, description="最大挪用类别所依据的矩阵行 / matrix line of top_misuse"
    )
    misuse_verdict: Verdict | None
    verdict: Verdict


class BatchSummary(BaseModel):
    loans: int
    amount: Decimal
    risky_loans: int
    risky_amount: Decimal = Field(description="风险贷款上发现的回流与挪用金额 / amount found on risky loans")
    return_risky: int
    returned_amount: Decimal
    misuse_risky: int
    misused_amount: Decimal
    by_kind: list[AmountLine]


class BatchResult(BaseModel):
    batch_id: str
    inquiry_id: str
    bank_code: str
    from_date: dt.date
    to_date: dt.date
    analyses: list[Analysis]
    summary: BatchSummary
    rows: list[BatchRow]
    basis: Basis
