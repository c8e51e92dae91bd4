"""Pure validation of ingested values against a dataset contract: raw value in, typed value or reason out.

Reasons are stable codes (the load report counts them); each has a bilingual message for the quarantine file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jinyu.core.clock import SHANGHAI
from jinyu.core.districts import validate_district
from jinyu.core.errors import InvalidInput
from jinyu.core.ids import validate_resident_id, validate_uscc
from jinyu.core.industry import validate_industry
from jinyu.core.money import FEN
from jinyu.governance.contracts import Check, Column, Contract, Kind

REASONS: dict[str, str] = {
    "missing_required": "必填字段为空 / required value is missing",
    "bad_type": "类型或格式错误 / wrong type or format",
    "bad_check": "校验失败（校验位、代码表）/ fails its check (check digit, code table)",
    "bad_choice": "不在允许取值内 / not one of the allowed values",
    "below_min": "低于最小值 / below the minimum",
    "too_many_decimals": "金额超过两位小数 / more than two decimals",
    "duplicate_key_in_file": "文件内主键重复 / key repeated within the file",
    "duplicate_key_existing": "主键已存在于数据湖 / key already loaded",
    "unknown_reference": "引用的记录不存在 / referenced record does not exist",
}

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}

CHECKS: dict[Check, Callable[[str], str]] = {
    Check.USCC: validate_uscc,
    Check.RESIDENT_ID: validate_resident_id,
    Check.INDUSTRY: validate_industry,
    Check.DISTRICT: validate_district,
}


class Rejected(Exception):
    def __init__(self, reason: str, column: str) -> None:
        super().__init__(reason)
        self.reason, self.column = reason, column


def _decimal(raw: Any) -> Decimal:
    value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    if not value.is_finite():
        raise InvalidOperation
    return value


def _timestamp(raw: Any) -> dt.datetime:
    value = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw).strip())
    # Without an offset a time is local Asia/Shanghai time (as banks' systems write it); store UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(dt.UTC)


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def _month(raw: Any) -> str:
    text = str(raw).strip()
    if not _MONTH.match(text):
        raise ValueError(text)
    return text


PARSERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.STRING: lambda raw: str(raw).strip(),
    Kind.INT: lambda raw: int(str(raw).strip()) if not isinstance(raw, int) else raw,
    Kind.DECIMAL: _decimal,
    Kind.DATE: _date,
    Kind.TIMESTAMP: _timestamp,
    Kind.BOOL: _bool,
    Kind.MONTH: _month,
}


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def coerce(column: Column, raw: Any) -> Any:
    """Typed value of one cell, or Rejected naming the reason."""
    if is_blank(raw):
        if column.required:
            raise Rejected("missing_required", column.name)
        return None
    try:
        value = PARSERS[column.kind](raw)
    except (ValueError, TypeError, InvalidOperation):
        raise Rejected("bad_type", column.name) from None
    if column.kind == Kind.DECIMAL:
        if value != value.quantize(FEN):
            raise Rejected("too_many_decimals", column.name)
        value = value.quantize(FEN)
    if column.check is not None:
        try:
            value = CHECKS[column.check](value)
        except InvalidInput:
            raise Rejected("bad_check", column.name) from None
    if column.choices and value not in column.choices:
        raise Rejected("bad_choice", column.name)
    if column.min_value is not None and value < Decimal(str(column.min_value)):
        raise Rejected("below_min", column.name)
    return value


def check_when(column: Column, value: Any, row: Mapping[str, Any]) -> Any:
    """A typed value checked by the checks that depend on another column of the row (`Column.check_when`)."""
    if value is None:
        return value
    for other, expected, check in column.check_when:
        if row.get(other) == expected:
            try:
                value = CHECKS[check](value)
            except InvalidInput:
                raise Rejected("bad_check", column.name) from None
    return value


def validate_row(contract: Contract, raw: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """All problems of one row (so the quarantine file lists every reason at once)."""
    typed: dict[str, Any] = {}
    problems: list[str] = []
    for column in contract.columns:
        try:
            typed[column.name] = coerce(column, raw.get(column.name))
        except Rejected as exc:
            problems.append(f"{exc.reason}:{exc.column}")
    for column in contract.columns:
        if column.check_when and column.name in typed:
            try:
                typed[column.name] = check_when(column, typed[column.name], typed)
            except Rejected as exc:
                problems.append(f"{exc.reason}:{exc.column}")
    return (None, problems) if problems else (typed, [])


def reason_code(problem: str) -> str:
    return problem.split(":", 1)[0]


def month_of(value: Any) -> str:
    if isinstance(value, str):
        return value[:7]
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m")
    return f"{value.year:04d}-{value.month:02d}"
