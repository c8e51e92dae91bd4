"""Writing datasets as CSV or Parquet, byte for byte reproducibly, and fingerprinting the files.

Values arrive in one internal form per kind: string/month as str, int as int, decimal as int fen (cents),
date as datetime.date, timestamp as int UTC epoch seconds, bool as bool; None is a missing optional value.

Parquet: decimal128(18,2), date32, timestamp[us, tz=Asia/Shanghai] (an instant, stored UTC), month as
"YYYY-MM" strings, zstd level 3, fixed writer options and no wall-clock metadata, so equal inputs give equal
bytes. CSV: UTF-8 without BOM, header row, comma, "\n" line ends, decimals with exactly two places, ISO dates,
ISO 8601 timestamps with +08:00, booleans true/false, empty for missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jinyu.synth.schema import Col, DatasetSpec

SHANGHAI_TZ = "Asia/Shanghai"
_ARROW_TYPES = {
    "string": pa.string(),
    "month": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz=SHANGHAI_TZ),
    "bool": pa.bool_(),
}
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "write_page_index": False,
}
ROW_GROUP_ROWS = 1_000_000
_LOCAL = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative to the region directory, "/"-separated
    rows: int
    sha256: str
    size: int


def arrow_schema(spec: DatasetSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind], nullable=not c.required) for c in spec.columns])


def cents_to_decimal(cents: pa.Array) -> pa.Array:
    """int64 fen -> decimal128(18,2) without floating point: the fen count is the decimal's unscaled value."""
    return cents.cast(pa.decimal128(19, 0)).view(pa.decimal128(18, 2))


def seconds_to_timestamp(seconds: pa.Array) -> pa.Array:
    """int64 UTC epoch seconds -> timestamp[us, Asia/Shanghai]."""
    return pc.multiply(seconds, 1_000_000).view(_ARROW_TYPES["timestamp"])


def _arrow_column(col: Col, values: Sequence[Any]) -> pa.Array:
    if col.kind == "decimal":
        return cents_to_decimal(pa.array(values, pa.int64()))
    if col.kind == "timestamp":
        return seconds_to_timestamp(pa.array(values, pa.int64()))
    return pa.array(values, _ARROW_TYPES[col.kind])


def to_table(spec: DatasetSpec, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    arrays = [_arrow_column(c, columns[c.name]) for c in spec.columns]
    table = pa.Table.from_arrays(arrays, schema=arrow_schema(spec))
    if spec.sort_by:
        table = table.sort_by([(name, "ascending") for name in spec.sort_by])
    return table


def parquet_writer(path: Path, spec: DatasetSpec) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, arrow_schema(spec), **PARQUET_OPTIONS)


def write_parquet(out: Path, spec: DatasetSpec, columns: Mapping[str, Sequence[Any]]) -> FileRecord:
    path = out / spec.filename
    table = to_table(spec, columns)
    with parquet_writer(path, spec) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    return record(out, path, table.num_rows)


def _csv_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "decimal":
        return f"{'-' if value < 0 else ''}{abs(value) // 100}.{abs(value) % 100:02d}"
    if kind == "date":
        return str(value.isoformat())
    if kind == "timestamp":
        return dt.datetime.fromtimestamp(value, _LOCAL).isoformat()
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def write_csv(out: Path, spec: DatasetSpec, columns: Mapping[str, Sequence[Any]]) -> FileRecord:
    path = out / spec.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = len(columns[spec.columns[0].name])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(spec.column_names)
        data = [columns[c.name] for c in spec.columns]
        kinds = [c.kind for c in spec.columns]
        for i in range(rows):
            writer.writerow([_csv_value(kind, col[i]) for kind, col in zip(kinds, data, strict=True)])
    return record(out, path, rows)


def write_dataset(out: Path, spec: DatasetSpec, columns: Mapping[str, Sequence[Any]]) -> FileRecord:
    return (write_parquet if spec.parquet else write_csv)(out, spec, columns)


def record(out: Path, path: Path, rows: int) -> FileRecord:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return FileRecord(path.relative_to(out).as_posix(), rows, digest.hexdigest(), path.stat().st_size)
