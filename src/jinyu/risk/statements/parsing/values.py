"""Reading single values (dates, times, exact amounts) and collecting every problem of a file at once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.money import FEN, parse_amount
from jinyu.risk.statements.errors import malformed

MAX_PROBLEMS = 50
_PLAIN = re.compile(r"[+-]?\d{1,15}(\.\d{1,2})?")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


class Bad(ValueError):
    """A value that cannot be read; the message is shown to the user with the line or element."""


class Problems:
    """Collects field errors (each naming its line or element) and raises them together."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, where: str, message: str) -> None:
        if len(self.errors) < MAX_PROBLEMS:
            self.errors.append(FieldError(where, message))

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_PROBLEMS

    def raise_if_any(self) -> None:
        if self.errors:
            raise malformed(self.errors)


def amount(text: str) -> Decimal:
    """An exact yuan amount with at most two decimals; `1,234.50` (thousands separators) is accepted."""
    raw = text.strip()
    if _PLAIN.fullmatch(raw):  # the common case, without the general checks' cost
        return Decimal(raw).quantize(FEN)
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    try:
        return parse_amount(raw)
    except InvalidInput as exc:
        raise Bad(exc.fields[0].message if exc.fields else exc.detail) from None


def date(text: str) -> dt.date:
    """`2024-03-01`, `2024/03/01` or `20240301` (ISO first: the C parser is far faster than strptime)."""
    raw = text.strip()
    try:
        return dt.date.fromisoformat(raw.replace("/", "-") if len(raw) == 10 else raw)
    except ValueError:
        pass
    match = _COMPACT_DATE.fullmatch(raw)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise Bad(f"不是有效日期（YYYY-MM-DD）/ not a date (YYYY-MM-DD): {raw!r}")


def time(text: str) -> dt.time:
    """`09:30:00` or `09:30`."""
    raw = text.strip()
    if _TIME.fullmatch(raw):
        try:
            return dt.time.fromisoformat(raw)
        except ValueError:
            pass
    raise Bad(f"不是有效时间（HH:MM:SS）/ not a time (HH:MM:SS): {raw!r}")


def date_time(text: str) -> tuple[dt.date, dt.time | None]:
    """`2024-03-01`, or a date and a time separated by a space or `T` (`2024-03-01 09:30:00`)."""
    raw = text.strip()
    head, sep, tail = raw.replace("T", " ", 1).partition(" ")
    if not sep:
        return date(raw), None
    return date(head), time(tail)


def currency(text: str) -> str:
    raw = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", raw):
        raise Bad(f"币种应为 ISO 4217 三位字母 / currency must be an ISO 4217 code: {text.strip()!r}")
    return raw
