"""The statement's own arithmetic: running balances and the closing balance.

Each stated running balance must equal the balance before it (the previous stated one, or the opening
balance) plus the line's amount. After a break the check continues from the stated balance, so one wrong
figure gives one break, not a cascade. The closing balance must equal the last stated balance, or, for a
statement without running balances (camt.053 entries carry none), the opening balance plus every line.
Where the hub holds a balance of record for the account, the opening balance must equal it too (the break's
source is `opening_balance_of_record@<as_of>`).
"""

from __future__ import annotations

from decimal import Decimal

from jinyu.risk.statements.rules.model import BalanceBreak, Statement

CLOSING = -1
OPENING_OF_RECORD = -2  # the stated opening balance against the hub's balance of record


def opening_of_record_break(statement: Statement, as_of: str, expected: Decimal) -> BalanceBreak | None:
    """The stated opening balance must equal the balance of record at the start of the period: the latest
    `opening_balances` figure on or before the first day, plus the ledger's net flow from that day to it."""
    if statement.opening_balance == expected:
        return None
    return BalanceBreak(
        OPENING_OF_RECORD, f"opening_balance_of_record@{as_of}", expected, statement.opening_balance
    )


def balance_breaks(statement: Statement) -> list[BalanceBreak]:
    breaks: list[BalanceBreak] = []
    balance = statement.opening_balance
    for i, line in enumerate(statement.lines):
        expected = balance + line.amount
        if line.balance is None:
            balance = expected
            continue
        if line.balance != expected:
            breaks.append(BalanceBreak(i, line.source, expected, line.balance))
        balance = line.balance
    if statement.closing_balance != balance:
        breaks.append(BalanceBreak(CLOSING, "closing_balance", balance, statement.closing_balance))
    return breaks


def lines_total(statement: Statement) -> Decimal:
    return sum((line.amount for line in statement.lines), Decimal("0.00"))
