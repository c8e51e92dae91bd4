"""Small builders for statement lines, ledger lines and statements, in the tests' shorthand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jinyu.core.clock import SHANGHAI
from jinyu.risk.statements.rules import LedgerLine, Statement, StatementLine

START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 31)


def sline(
    day: str,
    amount: str,
    account: str | None = None,
    name: str | None = None,
    ref: str | None = None,
    *,
    balance: str | None = None,
    time: str | None = None,
    memo: str | None = None,
    source: str = "line",
) -> StatementLine:
    return StatementLine(
        source=source,
        booked_on=dt.date.fromisoformat(day),
        amount=Decimal(amount),
        time=dt.time.fromisoformat(time) if time else None,
        counterparty_account=account,
        counterparty_name=name,
        balance=Decimal(balance) if balance is not None else None,
        reference=ref,
        memo=memo,
    )


def lline(
    txn_id: str,
    when: str,
    amount: str,
    account: str,
    name: str | None = None,
    *,
    memo: str | None = None,
    period: tuple[dt.date, dt.date] = (START, END),
) -> LedgerLine:
    local = dt.datetime.fromisoformat(when).replace(tzinfo=SHANGHAI)
    return LedgerLine(
        txn_id=txn_id,
        booked_on=local.date(),
        amount=Decimal(amount),
        counterparty_account=account,
        local_time=local.time(),
        counterparty_name=name,
        memo=memo,
        channel="online",
        in_period=period[0] <= local.date() <= period[1],
    )


def statement(
    lines: list[StatementLine], opening: str = "0.00", closing: str | None = None, account: str = "A1"
) -> Statement:
    total = sum((line.amount for line in lines), Decimal(opening))
    return Statement(
        format="csv",
        account_no=account,
        currency="CNY",
        period_start=START,
        period_end=END,
        opening_balance=Decimal(opening),
        closing_balance=Decimal(closing) if closing is not None else total,
        lines=tuple(lines),
    )
