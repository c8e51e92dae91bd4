"""Field readers shared by the product parsers: every problem is collected with its path, none raised.

Stdlib only: values in, values out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from jinyu.claim.rules.product import FEN
from jinyu.core.errors import FieldError

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
ICD_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
CITY_RE = re.compile(r"^\d{6}$")


class Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))


def read_text(errs: Errors, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errs.add(f"{path}{key}", "必填 / required")
        return ""
    if not isinstance(value, str | int):
        errs.add(f"{path}{key}", "应为文本 / must be text")
        return ""
    return str(value).strip()


def read_code(errs: Errors, data: Mapping[str, Any], key: str, path: str) -> str:
    value = read_text(errs, data, key, path)
    if value and not CODE_RE.match(value):
        errs.add(f"{path}{key}", "编码只能含字母、数字和 _.- / code may hold letters, digits and _.- only")
    return value


def read_amount(
    errs: Errors, value: Any, path: str, *, required: bool = True, positive: bool = False
) -> Decimal | None:
    if value is None:
        if required:
            errs.add(path, "必填 / required")
        return None
    if isinstance(value, bool | float):
        # Floats are refused: 0.1 + 0.2 is not money. YAML and JSON authors write amounts as strings.
        errs.add(path, '金额须写成字符串或整数，如 "20000.00" / write amounts as strings or integers')
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errs.add(path, f"不是有效金额 / not an amount: {value!r}")
        return None
    if not amount.is_finite() or amount != amount.quantize(FEN):
        errs.add(path, "金额最多两位小数（分）/ at most two decimals (fen)")
        return None
    if amount < 0 or (positive and amount == 0):
        errs.add(
            path, "金额须为正数 / must be positive" if positive else "金额不能为负 / must not be negative"
        )
        return None
    return amount.quantize(FEN)


def read_ratio(errs: Errors, value: Any, path: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool | float):
        errs.add(path, '比例须写成字符串，如 "0.70" / write ratios as strings like "0.70"')
        return None
    try:
        ratio = Decimal(str(value).strip())
    except InvalidOperation:
        errs.add(path, f"不是有效比例 / not a ratio: {value!r}")
        return None
    if not ratio.is_finite() or not 0 <= ratio <= 1:
        errs.add(path, "赔付比例应在 0 到 1 之间 / ratio must be between 0 and 1")
        return None
    if ratio != ratio.quantize(Decimal("0.0001")):
        errs.add(path, "比例最多四位小数 / at most four decimals")
        return None
    return ratio


def read_date(errs: Errors, value: Any, path: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errs.add(path, f"日期应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value!r}")
        return None


def read_mapping(errs: Errors, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        errs.add(path, "应为对象 / must be a mapping")
        return {}
    return value


def read_sequence(errs: Errors, value: Any, path: str, *, required: bool = True) -> Sequence[Any]:
    if value is None:
        if required:
            errs.add(path, "必填 / required")
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        errs.add(path, "应为列表 / must be a list")
        return ()
    return value
