"""The presented statement a bank would print: its lines and what a forger did to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

SH = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Line:
    booked_on: dt.date
    time: dt.time | None
    counterparty_account: str
    counterparty_name: str
    amount: Decimal  # signed from the account's side: in positive, out negative
    reference: str
    memo: str
    balance_offset: Decimal = Decimal(0)  # a forger's slip: added to the printed running balance


@dataclass
class Presented:
    account_no: str
    account_name: str
    uscc: str
    start: dt.date
    end: dt.date
    opening: Decimal
    lines: list[Line]
    tampering: str = "none"
    inserted: int = 0
    deleted: int = 0
    altered: int = 0
    breaks: int = 0
    closing_offset: Decimal = Decimal(0)  # a forger's slip in the printed closing balance


def running(opening: Decimal, lines: list[Line]) -> list[Decimal]:
    balances, balance = [], opening
    for line in lines:
        balance += line.amount
        balances.append(balance)
    return balances
