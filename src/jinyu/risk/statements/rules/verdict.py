"""Match rates and the verdict.

Rates count only *confirmed* lines (matched in passes 1–3; altered lines are not confirmed):
- match rate by count / by amount: the share of the statement's lines (by |amount|) the ledger confirms;
- ledger coverage by count / by amount: the share of the period's ledger transfers the statement shows.
An empty side counts as fully matched (nothing to confirm). The verdict is `genuine` when every rate reaches
its `genuine_min_*` and no running balance breaks; `fabricated` when the match rate by count or by amount is
below its `fabricated_below_*`; otherwise `suspicious`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from jinyu.risk.statements.rules.model import LedgerLine, MatchKind, Reconciliation, Statement, Thresholds

RATE = Decimal("0.0001")
ZERO = Decimal("0.00")


class Verdict(StrEnum):
    GENUINE = "genuine"
    SUSPICIOUS = "suspicious"
    FABRICATED = "fabricated"


VERDICT_LABELS = {
    Verdict.GENUINE: "真实 / genuine",
    Verdict.SUSPICIOUS: "可疑 / suspicious",
    Verdict.FABRICATED: "伪造 / fabricated",
}


@dataclass(frozen=True)
class Summary:
    statement_lines: int
    ledger_lines: int  # in the period
    matched_lines: dict[str, int]  # statement lines per match kind
    fabricated: int
    hidden: int
    altered: int
    balance_breaks: int
    match_rate_count: Decimal
    match_rate_amount: Decimal
    ledger_coverage_count: Decimal
    ledger_coverage_amount: Decimal
    fabricated_amount: Decimal
    hidden_amount: Decimal
    altered_amount: Decimal  # sum of |stated - ledger| over altered lines
    verdict: Verdict
    reasons: tuple[str, ...]

    @property
    def risky_amount(self) -> Decimal:
        return self.fabricated_amount + self.hidden_amount + self.altered_amount


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return Decimal(1) if whole == 0 else part / whole


def _abs_total(amounts: Sequence[Decimal]) -> Decimal:
    return sum((abs(a) for a in amounts), ZERO)


def summarise(
    statement: Statement, ledger: Sequence[LedgerLine], rec: Reconciliation, t: Thresholds
) -> Summary:
    confirmed_s = {i for m in rec.matches if m.kind != MatchKind.ALTERED for i in m.statement}
    confirmed_l = {
        j for m in rec.matches if m.kind != MatchKind.ALTERED for j in m.ledger if ledger[j].in_period
    }
    s_amounts = [line.amount for line in statement.lines]
    period = [j for j, line in enumerate(ledger) if line.in_period]
    rates = (
        _ratio(Decimal(len(confirmed_s)), Decimal(len(s_amounts))),
        _ratio(_abs_total([s_amounts[i] for i in confirmed_s]), _abs_total(s_amounts)),
        _ratio(Decimal(len(confirmed_l)), Decimal(len(period))),
        _ratio(
            _abs_total([ledger[j].amount for j in confirmed_l]),
            _abs_total([ledger[j].amount for j in period]),
        ),
    )
    altered = [m for m in rec.matches if m.kind == MatchKind.ALTERED]
    kinds = Counter({k.value: 0 for k in MatchKind})
    for m in rec.matches:
        kinds[m.kind.value] += len(m.statement)
    verdict, reasons = _verdict(rates, rec, len(altered), t)
    return Summary(
        statement_lines=len(s_amounts),
        ledger_lines=len(period),
        matched_lines=dict(kinds),
        fabricated=len(rec.fabricated),
        hidden=len(rec.hidden),
        altered=len(altered),
        balance_breaks=len(rec.balance_breaks),
        match_rate_count=_show(rates[0]),
        match_rate_amount=_show(rates[1]),
        ledger_coverage_count=_show(rates[2]),
        ledger_coverage_amount=_show(rates[3]),
        fabricated_amount=_abs_total([s_amounts[i] for i in rec.fabricated]),
        hidden_amount=_abs_total([ledger[j].amount for j in rec.hidden]),
        altered_amount=sum(
            (abs(s_amounts[m.statement[0]] - ledger[m.ledger[0]].amount) for m in altered), ZERO
        ),
        verdict=verdict,
        reasons=reasons,
    )


def _show(rate: Decimal) -> Decimal:
    return rate.quantize(RATE, rounding=ROUND_HALF_UP)


def _verdict(
    rates: tuple[Decimal, Decimal, Decimal, Decimal], rec: Reconciliation, altered: int, t: Thresholds
) -> tuple[Verdict, tuple[str, ...]]:
    reasons = _findings(rec, altered)
    count, amount, coverage_count, coverage_amount = rates
    if count < t.fabricated_below_match_rate_count or amount < t.fabricated_below_match_rate_amount:
        reasons.append(
            f"匹配率低于伪造阈值（笔数 {_pct(count)}，金额 {_pct(amount)}）/ match rate below the fabricated "
            f"threshold (count {_pct(count)}, amount {_pct(amount)})"
        )
        return Verdict.FABRICATED, tuple(reasons)
    genuine = (
        count >= t.genuine_min_match_rate_count
        and amount >= t.genuine_min_match_rate_amount
        and coverage_count >= t.genuine_min_ledger_coverage_count
        and coverage_amount >= t.genuine_min_ledger_coverage_amount
        and not rec.balance_breaks
    )
    if genuine:
        return Verdict.GENUINE, (
            *reasons,
            "对账单与平台账本一致 / the statement agrees with the hub's ledger",
        )
    return Verdict.SUSPICIOUS, tuple(reasons)


def _findings(rec: Reconciliation, altered: int) -> list[str]:
    out = []
    if rec.fabricated:
        out.append(
            f"{len(rec.fabricated)} 条流水在平台账本中不存在 / lines not in the hub's ledger (fabricated)"
        )
    if rec.hidden:
        out.append(
            f"{len(rec.hidden)} 笔账本交易未列入对账单 / ledger transfers left off the statement (hidden)"
        )
    if altered:
        out.append(
            f"{altered} 条流水被改动（金额、对手方或日期）/ lines altered (amount, counterparty or date)"
        )
    if rec.balance_breaks:
        out.append(f"{len(rec.balance_breaks)} 处余额不连续 / breaks in the running balance")
    if not rec.netting_complete:
        out.append(
            "轧差搜索已达上限，未尝试全部流水 / netting search budget spent before every line was tried"
        )
    return out


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
