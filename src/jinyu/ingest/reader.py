"""Reading ingestion files (CSV or Parquet) as batches of raw rows, without loading the whole file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jinyu.core.errors import FieldError, InvalidInput
from jinyu.governance.contracts import Contract

BATCH_ROWS = 65_536


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_of(path: Path) -> list[Path]:
    """A file, or a directory of part files of one dataset (sorted, so loads are reproducible)."""
    if path.is_dir():
        parts = sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".csv"))
        if not parts:
            raise InvalidInput(detail=f"目录中没有 .parquet 或 .csv 文件 / no data files in {path}")
        return parts
    if not path.exists():
        raise InvalidInput(
            detail=f"文件不存在 / file not found: {path}",
            fields=[FieldError("path", "不存在 / does not exist")],
        )
    if path.suffix not in (".parquet", ".csv"):
        raise InvalidInput(
            detail="仅支持 .csv 与 .parquet / only .csv and .parquet files",
            fields=[FieldError("path", f"unsupported suffix {path.suffix!r}")],
        )
    return [path]


def _check_header(contract: Contract, names: list[str], path: Path) -> None:
    missing = [c for c in contract.column_names if c not in names]
    extra = [n for n in names if n not in contract.column_names]
    fields = [FieldError(m, "缺少此列 / column missing") for m in missing]
    fields += [FieldError(e, "契约中没有此列 / column not in the contract") for e in extra]
    if fields:
        raise InvalidInput(
            detail=f"{path.name}: 列与数据契约 {contract.name} 不符 / columns do not match the "
            f"contract (missing {missing}, unexpected {extra})",
            fields=fields,
        )


def _csv_batches(contract: Contract, path: Path) -> Iterator[pa.RecordBatch]:
    # Every column as text: the contract, not the CSV reader, decides types, so bad cells become reasons.
    with path.open("rb") as f:
        header = f.readline().decode("utf-8-sig").strip().split(",")
    _check_header(contract, [h.strip() for h in header], path)
    convert = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pacsv.ReadOptions(block_size=8 << 20, encoding="utf8")
    try:
        reader = pacsv.open_csv(path, read_options=read, convert_options=convert)
        yield from reader
    except pa.ArrowInvalid as exc:
        raise InvalidInput(detail=f"{path.name}: CSV 无法解析 / malformed CSV: {exc}") from None


def _parquet_batches(contract: Contract, path: Path) -> Iterator[pa.RecordBatch]:
    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(detail=f"{path.name}: Parquet 无法读取 / unreadable Parquet: {exc}") from None
    _check_header(contract, list(file.schema_arrow.names), path)
    yield from file.iter_batches(batch_size=BATCH_ROWS)


def raw_batches(contract: Contract, path: Path) -> Iterator[pa.RecordBatch]:
    reader = _csv_batches if path.suffix == ".csv" else _parquet_batches
    for batch in reader(contract, path):
        yield batch.select(list(contract.column_names))


def row_count(path: Path) -> int | None:
    """Rows in a Parquet file from its footer (for the progress bar); None for CSV."""
    return pq.ParquetFile(path).metadata.num_rows if path.suffix == ".parquet" else None
