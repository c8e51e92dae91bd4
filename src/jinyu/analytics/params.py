"""Typed query parameters: the types a query may declare, and checking the values a caller passes.

Values are always bound by the engine, never pasted into SQL; checking them here first means a bad value
gives the same field error on every engine instead of an engine-specific failure deep in a query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from jinyu.core.errors import FieldError, InvalidInput


class Month(str):
    """A calendar month 'YYYY-MM' (declare a parameter as `Month`; pass a plain string)."""


class NonNegativeInt(int):
    """An int ≥ 0, e.g. LIMIT and OFFSET (declare as `NonNegativeInt`; pass a plain int)."""


_MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _str(v: object) -> object:
    if not isinstance(v, str):
        raise TypeError("应为字符串 / expected a string")
    return str(v)


def _month(v: object) -> object:
    if not isinstance(v, str) or not _MONTH_RE.match(v):
        raise TypeError("应为月份 YYYY-MM / expected a month 'YYYY-MM'")
    return str(v)


def _int(v: object) -> object:
    # bool is an int subclass in Python; a flag passed as a count is a caller bug.
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("应为整数 / expected an integer")
    return int(v)


def _non_negative(v: object) -> object:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise TypeError("应为非负整数 / expected an integer ≥ 0")
    return int(v)


def _bool(v: object) -> object:
    if not isinstance(v, bool):
        raise TypeError("应为布尔值 / expected true or false")
    return v


def _decimal(v: object) -> object:
    # Money is Decimal; a float has already lost the fen.
    if not isinstance(v, Decimal) or not v.is_finite():
        raise TypeError("应为有限的 Decimal / expected a finite Decimal")
    return v


def _date(v: object) -> object:
    if not isinstance(v, date) or isinstance(v, datetime):
        raise TypeError("应为日期 / expected a date")
    return v


def _datetime(v: object) -> object:
    # A naive datetime means different instants to DuckDB (as written) and PySpark (host-local zone).
    if not isinstance(v, datetime) or v.tzinfo is None:
        raise TypeError("应为带时区的时间 / expected a timezone-aware datetime")
    return v.astimezone(UTC)


CHECKS: dict[type, Callable[[object], object]] = {
    str: _str,
    Month: _month,
    int: _int,
    NonNegativeInt: _non_negative,
    bool: _bool,
    Decimal: _decimal,
    date: _date,
    datetime: _datetime,
}


def bind(declared: Mapping[str, type], values: Mapping[str, object]) -> dict[str, object]:
    """Check `values` against the declared parameters; return them as plain values ready to bind.

    Every problem is reported at once, one field error per parameter.
    """
    errors = [FieldError(name, "缺少参数 / missing parameter") for name in declared if name not in values]
    errors += [FieldError(name, "未知参数 / unknown parameter") for name in values if name not in declared]
    bound: dict[str, object] = {}
    for name, kind in declared.items():
        if name not in values:
            continue
        try:
            bound[name] = CHECKS[kind](values[name])
        except TypeError as exc:
            errors.append(FieldError(name, str(exc)))
    if errors:
        names = ", ".join(e.field for e in errors)
        raise InvalidInput(detail=f"查询参数有误 / bad query parameters: {names}", fields=errors)
    return bound
