"""How a table is cut into monthly files: the month of each row, and sorted slices per month.

The month of a timestamp is its month in Asia/Shanghai, the region's business calendar: a bank's February
file holds the transfer made at 07:00 on 1 February in Shanghai even though that is still 31 January in
UTC. Loading a month therefore touches one partition only. Timestamps without a zone are stored UTC (house
rule), so they are read as UTC before the conversion. Dates and 'YYYY-MM' strings have no zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.core.errors import invalid

BUSINESS_TZ = "Asia/Shanghai"
_MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def month_of(table: pa.Table, column: str) -> pa.Array:
    """The 'YYYY-MM' month of every row of `column`; refuses nulls and values that are not months."""
    if column not in table.column_names:
        raise invalid("partition_by", f"表中没有该列 / no such column: {column!r}")
    values = table.column(column).combine_chunks()
    if values.null_count:
        raise invalid(column, f"分区列有 {values.null_count} 个空值 / partition column has nulls")
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _checked_months(values.cast(pa.string()), column)
    if pa.types.is_date(kind):
        return pc.strftime(values.cast(pa.timestamp("s")), format="%Y-%m")
    if pa.types.is_timestamp(kind):
        utc = values if kind.tz is not None else values.cast(pa.timestamp(kind.unit, tz="UTC"))
        local = utc.cast(pa.timestamp(kind.unit, tz=BUSINESS_TZ))
        return pc.strftime(local, format="%Y-%m")
    raise invalid(column, f"分区列须为月份、日期或时间 / must be a month, date or timestamp, not {kind}")


def _checked_months(values: pa.Array, column: str) -> pa.Array:
    ok = pc.match_substring_regex(values, pattern=_MONTH_PATTERN)
    if not pc.all(ok).as_py():
        bad = values.filter(pc.invert(ok))[0].as_py()
        raise invalid(column, f"月份格式须为 YYYY-MM / month must be YYYY-MM: {bad!r}")
    return values


def sort_keys(columns: Sequence[str]) -> list[tuple[str, str]]:
    return [(c, "ascending") for c in columns]


def sorted_table(table: pa.Table, sort_by: Sequence[str]) -> pa.Table:
    return table.sort_by(sort_keys(sort_by)) if sort_by else table


def split_by_month(
    table: pa.Table, months: pa.Array, sort_by: Sequence[str]
) -> Iterator[tuple[str, pa.Table]]:
    """Yield (month, rows of that month sorted by `sort_by`), months ascending.

    One sort by (month, *sort_by) puts every month's rows in one contiguous run, so each file is a slice.
    """
    key = "__jinyu_month"
    tagged = table.append_column(key, months)
    ordered = tagged.take(pc.sort_indices(tagged, sort_keys=sort_keys([key, *sort_by])))
    counts = pc.value_counts(months)
    runs = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    offset = 0
    for month, count in runs:
        yield month, ordered.slice(offset, count).drop_columns([key])
        offset += count
