"""Turning a reconciliation into the result a bank sees: masked, capped evidence lists, counts and rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal

from jinyu.core.clock import SHANGHAI
from jinyu.risk.statements import rules
from jinyu.risk.statements.rules import (
    LedgerLine,
    MatchKind,
    Reconciliation,
    Statement,
    StatementLine,
    Summary,
)
from jinyu.risk.statements.schemas import (
    AlteredOut,
    BalanceBreakOut,
    Balances,
    Counts,
    Evidence,
    LedgerLineOut,
    NettedOut,
    Rates,
    StatementLineOut,
)

EVIDENCE_LIMIT = 200  # items per evidence list; counts and amounts always cover everything


# Counterparty accounts and names leave here raw: the service passes the result through the data-security
# policy (protect), which shows a bank counterparties as keyed tokens with their category, never raw.


def statement_line(line: StatementLine, categories: Mapping[str, str] | None = None) -> StatementLineOut:
    account = line.counterparty_account
    return StatementLineOut(
        source=line.source,
        booked_on=line.booked_on,
        time=line.time,
        amount=line.amount,
        counterparty_account=account or None,
        counterparty_name=line.counterparty_name,
        counterparty_category=(categories or {}).get(account) if account else None,
        balance=line.balance,
        reference=line.reference,
    )


def ledger_line(line: LedgerLine) -> LedgerLineOut:
    return LedgerLineOut(
        txn_id=line.txn_id,
        ts=dt.datetime.combine(line.booked_on, line.local_time or dt.time(0), SHANGHAI).astimezone(dt.UTC),
        booked_on=line.booked_on,
        amount=line.amount,
        counterparty_account=line.counterparty_account,
        counterparty_name=line.counterparty_name,
        counterparty_category=line.counterparty_category,
        channel=line.channel,
        memo=line.memo,
    )


def evidence(
    statement: Statement, ledger: Sequence[LedgerLine], rec: Reconciliation, limit: int = EVIDENCE_LIMIT
) -> Evidence:
    s, lg = statement.lines, ledger
    altered = [m for m in rec.matches if m.kind == MatchKind.ALTERED]
    netted = [m for m in rec.matches if m.kind == MatchKind.NETTED]
    lists = (rec.fabricated, rec.hidden, altered, netted, rec.balance_breaks)
    # A statement line's counterparty takes its category from the hub's accounts, as the ledger knows them.
    cats = {
        line.counterparty_account: line.counterparty_category for line in lg if line.counterparty_category
    }
    return Evidence(
        fabricated=[statement_line(s[i], cats) for i in rec.fabricated[:limit]],
        hidden=[ledger_line(lg[j]) for j in rec.hidden[:limit]],
        altered=[
            AlteredOut(
                changes=[c.value for c in m.changes],
                statement=statement_line(s[m.statement[0]], cats),
                ledger=ledger_line(lg[m.ledger[0]]),
            )
            for m in altered[:limit]
        ],
        netted=[
            NettedOut(
                statement=[statement_line(s[i], cats) for i in m.statement],
                ledger=[ledger_line(lg[j]) for j in m.ledger],
            )
            for m in netted[:limit]
        ],
        balance_breaks=[
            BalanceBreakOut(source=b.source, expected=b.expected, stated=b.stated, difference=b.difference)
            for b in rec.balance_breaks[:limit]
        ],
        truncated=any(len(items) > limit for items in lists),
        limit=limit,
    )


def counts(summary: Summary) -> Counts:
    return Counts(
        statement_lines=summary.statement_lines,
        ledger_lines=summary.ledger_lines,
        matched=summary.matched_lines,
        fabricated=summary.fabricated,
        hidden=summary.hidden,
        altered=summary.altered,
        balance_breaks=summary.balance_breaks,
    )


def rates(summary: Summary) -> Rates:
    return Rates(
        match_rate_count=summary.match_rate_count,
        match_rate_amount=summary.match_rate_amount,
        ledger_coverage_count=summary.ledger_coverage_count,
        ledger_coverage_amount=summary.ledger_coverage_amount,
    )


def balances(
    statement: Statement, ledger: Sequence[LedgerLine], record: tuple[str, Decimal] | None = None
) -> Balances:
    net = sum((line.amount for line in ledger if line.in_period), statement.opening_balance * 0)
    return Balances(
        of_record=record[1] if record else None,
        of_record_from=record[0] if record else None,
        opening=statement.opening_balance,
        closing=statement.closing_balance,
        opening_plus_lines=statement.opening_balance + rules.lines_total(statement),
        opening_plus_ledger=statement.opening_balance + net,
    )


def thresholds(t: rules.Thresholds) -> dict[str, str]:
    return {k: str(v) for k, v in asdict(t).items()}
