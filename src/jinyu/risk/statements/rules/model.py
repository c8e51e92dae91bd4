"""The values statement verification works on: statement lines, ledger lines, matches, thresholds.

Amounts are exact Decimal yuan, signed from the account holder's side: credits (money in) positive, debits
(money out) negative. Dates are booking dates in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of the presented statement, in statement order; `source` names where it is in the file."""

    source: str  # "line 14" (CSV) or "Stmt/Ntry[3]" (camt.053)
    booked_on: dt.date
    amount: Decimal
    time: dt.time | None = None
    counterparty_account: str | None = None
    counterparty_name: str | None = None
    balance: Decimal | None = None
    reference: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    format: str  # csv | camt053
    account_no: str
    currency: str
    period_start: dt.date
    period_end: dt.date
    opening_balance: Decimal
    closing_balance: Decimal
    lines: tuple[StatementLine, ...]
    account_name: str | None = None
    currency_source: str = "currency"  # where the currency is stated: "line 3/currency", "Stmt/Acct/Ccy"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One transfer of the hub's ledger touching the account; `in_period` is false for the context days
    around the period (candidates for the tolerant pass, never reported as hidden)."""

    txn_id: str
    booked_on: dt.date  # Asia/Shanghai date of the transfer
    amount: Decimal
    counterparty_account: str
    local_time: dt.time | None = None  # Asia/Shanghai wall-clock time
    counterparty_name: str | None = None
    memo: str | None = None
    channel: str | None = None
    in_period: bool = True
    counterparty_category: str | None = None  # the counterparty account's category in the hub, when known


class MatchKind(StrEnum):
    EXACT_REFERENCE = "exact_reference"  # pass 1: statement reference = ledger txn_id
    EXACT_KEY = "exact_key"  # pass 1: same date, amount and counterparty
    TOLERANT = "tolerant"  # pass 2: same amount, date ±N days, similar counterparty name
    NETTED = "netted"  # pass 3: several lines on one side sum to one line on the other, within a day
    ALTERED = "altered"  # paired, but amount, counterparty or date differ


class Change(StrEnum):
    AMOUNT = "amount"
    COUNTERPARTY = "counterparty"
    DATE = "date"


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    statement: tuple[int, ...]  # indexes into Statement.lines
    ledger: tuple[int, ...]  # indexes into the ledger lines
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class BalanceBreak:
    """The stated running balance differs from the previous balance plus the line's amount."""

    index: int  # statement line index; -1 for the closing balance
    source: str
    expected: Decimal
    stated: Decimal

    @property
    def difference(self) -> Decimal:
        return self.stated - self.expected


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The verification's business parameters: data, versioned, quoted in every result and inquiry record.

    Matching: `date_tolerance_days` (pass 2 and altered-date pairing), `name_similarity` (difflib ratio of
    normalised counterparty names, 0..1), `netting_max_group`, `netting_max_candidates` and `netting_budget`
    (pass 3 search bounds), `altered_date_window_days` (how far a date may move and still be called altered, not
    fabricated + hidden).
    Verdict: genuine needs every rate ≥ its `genuine_min_*` and no balance break; fabricated when the
    statement's match rate by count or by amount is below `fabricated_below_*`; anything else is suspicious.
    """

    version: str = "2026-11-v1"
    date_tolerance_days: int = 1
    name_similarity: float = 0.8
    netting_max_group: int = 6
    netting_max_candidates: int = 40
    netting_budget: int = 200_000
    altered_date_window_days: int = 7
    genuine_min_match_rate_count: Decimal = Decimal("0.995")
    genuine_min_match_rate_amount: Decimal = Decimal("0.995")
    genuine_min_ledger_coverage_count: Decimal = Decimal("0.995")
    genuine_min_ledger_coverage_amount: Decimal = Decimal("0.995")
    fabricated_below_match_rate_count: Decimal = Decimal("0.8")
    fabricated_below_match_rate_amount: Decimal = Decimal("0.8")


DEFAULT_THRESHOLDS = Thresholds()


@dataclass
class Reconciliation:
    """What the passes found: matches, fabricated statement lines, hidden ledger lines, balance breaks."""

    matches: list[Match] = field(default_factory=list)
    fabricated: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    balance_breaks: list[BalanceBreak] = field(default_factory=list)
    netting_complete: bool = True  # false when pass 3 spent its search budget before trying every line
