"""What a statement check returns: the verdict, counts and rates, and the evidence the bank may see.

Counterparties' account numbers are always masked (622***********1234); the enterprise's own ledger lines are
shown because the enterprise consented to this check.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field


class StatementLineOut(BaseModel):
    """对账单上的一条流水 / a line of the presented statement."""

    source: str = Field(description="在文件中的位置 / where it is in the file: 'line 14' or 'Stmt/Ntry[3]'")
    booked_on: dt.date
    time: dt.time | None
    amount: Decimal = Field(description="收入为正、支出为负 / credit positive, debit negative")
    counterparty_account: str | None = Field(
        description="按数据安全策略：银行看到令牌 / per the policy: a token to banks"
    )
    counterparty_name: str | None = Field(
        description="按数据安全策略：银行看到令牌 / per the policy: a token to banks"
    )
    counterparty_category: str | None = Field(
        default=None,
        description="对手账户类别（平台已知时）/ the counterparty account's category, when the hub knows it",
    )
    balance: Decimal | None
    reference: str | None


class LedgerLineOut(BaseModel):
    """平台账本中的一笔交易 / a transfer in the hub's ledger."""

    txn_id: str
    ts: dt.datetime = Field(description="UTC")
    booked_on: dt.date = Field(description="Asia/Shanghai date")
    amount: Decimal
    counterparty_account: str | None = Field(
        description="按数据安全策略：银行看到令牌 / per the policy: a token to banks"
    )
    counterparty_name: str | None = Field(
        description="按数据安全策略：银行看到令牌 / per the policy: a token to banks"
    )
    counterparty_category: str | None = Field(
        default=None, description="对手账户类别 / the counterparty account's category in the hub"
    )
    channel: str | None
    memo: str | None


class AlteredOut(BaseModel):
    changes: list[str] = Field(description="amount / counterparty / date")
    statement: StatementLineOut
    ledger: LedgerLineOut


class NettedOut(BaseModel):
    statement: list[StatementLineOut]
    ledger: list[LedgerLineOut]


class BalanceBreakOut(BaseModel):
    source: str = Field(description="断点所在行或 closing_balance / the line, or closing_balance")
    expected: Decimal
    stated: Decimal
    difference: Decimal


class Counts(BaseModel):
    statement_lines: int
    ledger_lines: int = Field(description="期间内账本交易笔数 / ledger transfers in the period")
    matched: dict[str, int] = Field(description="各匹配方式的对账单行数 / statement lines per match kind")
    fabricated: int
    hidden: int
    altered: int
    balance_breaks: int


class Rates(BaseModel):
    match_rate_count: Decimal
    match_rate_amount: Decimal
    ledger_coverage_count: Decimal
    ledger_coverage_amount: Decimal


class Balances(BaseModel):
    opening: Decimal
    closing: Decimal
    opening_plus_lines: Decimal = Field(
        description="期初 + 对账单各行 / opening balance plus the statement's lines"
    )
    opening_plus_ledger: Decimal = Field(
        description="期初 + 账本净额 / opening balance plus the ledger's net flow"
    )
    of_record: Decimal | None = Field(
        None,
        description="期初记账余额：最近记账余额 + 其后至期初的账本净额；无记录为空 / the balance of record at the "
        "period's start (latest opening_balances figure plus the ledger's net flow since), null when unknown",
    )
    of_record_from: str | None = Field(
        None, description="所用记账余额的日期 / as_of of the balance of record used"
    )


class Evidence(BaseModel):
    fabricated: list[StatementLineOut]
    hidden: list[LedgerLineOut]
    altered: list[AlteredOut]
    netted: list[NettedOut]
    balance_breaks: list[BalanceBreakOut]
    truncated: bool = Field(description="各类证据最多列出 limit 条 / each list holds at most `limit` items")
    limit: int


class VerificationResult(BaseModel):
    """对公流水核验结果 / the result of a statement verification."""

    inquiry_id: str = Field(description="查询编号 / the inquiry's reference")
    verdict: str = Field(description="genuine / suspicious / fabricated")
    verdict_label: str
    reasons: list[str]
    account: str = Field(description="已脱敏账号 / masked account number")
    enterprise_name: str
    basis: str = Field(description="授权编号 / the consent grant the check relied on")
    format: str
    currency: str
    period_start: dt.date
    period_end: dt.date
    counts: Counts
    rates: Rates
    balances: Balances
    risky_amount: Decimal
    thresholds: dict[str, str]
    name_matcher: str
    netting_complete: bool
    evidence: Evidence
