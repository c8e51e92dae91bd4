"""Vectorised cell checks: a whole batch typed and checked with Arrow compute in one go.

Clean data (the usual case) never goes through Python row by row. When anything in a batch fails or is
unusual, `typed_batch` returns None and the caller validates that batch row by row, which names every
problem of every row (rules.validate_row). The two paths accept exactly the same values: the fast path only
says yes where the row path would, and defers everything else.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.core.errors import InvalidInput
from jinyu.governance.contracts import Column, Contract, Kind
from jinyu.ingest.rules import CHECKS

SHANGHAI = "Asia/Shanghai"
UTC_TS = pa.timestamp("us", tz="UTC")
DECIMAL = pa.decimal128(18, 2)
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_NUMERIC_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


class Defer(Exception):
    """This batch needs the row-by-row path."""


def _blank_as_null(arr: pa.Array) -> pa.Array:
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def _timestamp(arr: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        local = arr if arr.type.tz else pc.assume_timezone(arr, SHANGHAI)
        return local.cast(UTC_TS)
    if not pa.types.is_string(arr.type):
        raise Defer
    try:
        return pc.cast(arr, UTC_TS)  # every value carries an offset
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        naive = pc.cast(arr, pa.timestamp("us"))  # none carries one: local Shanghai time
        return pc.assume_timezone(naive, SHANGHAI).cast(UTC_TS)


def _decimal(arr: pa.Array) -> pa.Array:
    if pa.types.is_floating(arr.type):
        raise Defer  # floats are judged value by value (exact text) on the row path
    if pa.types.is_string(arr.type) and not all(
        _NUMERIC_TEXT.match(v) for v in pc.unique(arr.drop_null()).to_pylist()
    ):
        raise Defer
    return pc.cast(arr, DECIMAL)  # raises when a value has more than two decimals


def _month(arr: pa.Array) -> pa.Array:
    if not pa.types.is_string(arr.type) or not pc.all(pc.match_substring_regex(arr, MONTH_RE)).as_py():
        raise Defer
    return arr


def _cast(column: Column, arr: pa.Array) -> pa.Array:
    if column.kind == Kind.TIMESTAMP:
        return _timestamp(arr)
    if column.kind == Kind.DECIMAL:
        return _decimal(arr)
    if column.kind == Kind.MONTH:
        return _month(arr)
    if column.kind == Kind.DATE and pa.types.is_timestamp(arr.type):
        raise Defer  # a time where a date belongs: let the row path decide
    target = {Kind.STRING: pa.string(), Kind.INT: pa.int64(), Kind.DATE: pa.date32(), Kind.BOOL: pa.bool_()}
    return pc.cast(arr, target[column.kind])


def _check_values(column: Column, typed: pa.Array) -> None:
    present = typed.drop_null()
    if column.choices and not pc.all(pc.is_in(present, pa.array(column.choices))).as_py():
        raise Defer
    if column.min_value is not None and len(present):
        minimum = pc.min(present).as_py()
        if minimum is not None and float(minimum) < column.min_value:
            raise Defer
    if column.check is not None:
        check = CHECKS[column.check]
        try:
            if any(check(v) != v for v in pc.unique(present).to_pylist()):
                raise Defer  # the value would be normalised (case, spaces): the row path does that
        except InvalidInput:
            raise Defer from None


def _typed_column(column: Column, arr: pa.Array) -> pa.Array:
    arr = _blank_as_null(arr)
    if column.required and arr.null_count:
        raise Defer
    typed = _cast(column, arr)
    _check_values(column, typed)
    return typed


def _check_when(column: Column, typed: pa.Array, arrays: dict[str, pa.Array]) -> None:
    """Checks that depend on another column of the row (`Column.check_when`), on the rows they apply to."""
    for other, expected, check_name in column.check_when:
        applies = pc.fill_null(pc.equal(arrays[other], pa.scalar(expected, arrays[other].type)), False)
        check = CHECKS[check_name]
        try:
            if any(check(v) != v for v in pc.unique(typed.filter(applies).drop_null()).to_pylist()):
                raise Defer
        except InvalidInput:
            raise Defer from None


def typed_batch(contract: Contract, batch: pa.RecordBatch, schema: pa.Schema) -> pa.Table | None:
    """The batch typed to the contract's schema, or None when it must be validated row by row."""
    try:
        arrays = {c.name: _typed_column(c, batch.column(c.name)) for c in contract.columns}
        for c in contract.columns:
            if c.check_when:
                _check_when(c, arrays[c.name], arrays)
    except (Defer, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return pa.Table.from_arrays(list(arrays.values()), schema=schema)
