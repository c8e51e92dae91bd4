"""Reading ingestion files (CSV or Parquet) as numbered batches of raw rows, without loading the whole file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jinyu.core.errors import FieldError, InvalidInput
from jinyu.governance.contracts import Contract
from jinyu.ingest.csvfile import BadLine, detect, line_pass, read_header

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
    # Unexpected names are echoed at most ten, each at most 40 characters: a header that is really data or
    # noise must not come back whole.
    unexpected = [n for n in names if n not in contract.column_names]
    extra = [n if len(n) <= 40 else n[:40] + "…" for n in unexpected[:10]]
    if len(unexpected) > 10:
        extra.append(f"… +{len(unexpected) - 10}")
    fields = [FieldError(m, "缺少此列 / column missing") for m in missing]
    fields += [FieldError(e, "契约中没有此列 / column not in the contract") for e in extra]
    if fields:
        raise InvalidInput(
            detail=f"{path.name}: 列与数据契约 {contract.name} 不符 / columns do not match the "
            f"contract (missing {missing}, unexpected {extra})",
            fields=fields,
        )


class NeedsLinePass(Exception):
    """Arrow's block reader met something it cannot read (bad bytes, a short or long record): read again
    line by line, so only the bad lines are set aside."""


@dataclass(frozen=True)
class Part:
    """A batch of raw rows (all text for CSV) and the file row number of each (1 = first record)."""

    batch: pa.RecordBatch
    rows: pa.Array


Item = Part | BadLine


def _string_options(names: list[str]) -> pacsv.ConvertOptions:
    # Every column as text: the contract, not the CSV reader, decides types, so bad cells become reasons.
    return pacsv.ConvertOptions(
        column_types={h: pa.string() for h in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _numbered(batches: Iterator[pa.RecordBatch], rows: Sequence[int] | None) -> Iterator[Part]:
    done = 0
    for batch in batches:
        if rows is None:
            numbers = pa.array(range(done + 1, done + batch.num_rows + 1), type=pa.int64())
        else:
            numbers = pa.array(rows[done : done + batch.num_rows], type=pa.int64())
        done += batch.num_rows
        yield Part(batch, numbers)


def _arrow_csv(path: Path, names: list[str]) -> Iterator[pa.RecordBatch]:
    read = pacsv.ReadOptions(block_size=8 << 20, encoding="utf8")
    return iter(pacsv.open_csv(path, read_options=read, convert_options=_string_options(names)))


def _csv_items(contract: Contract, path: Path, encoding: str, line_by_line: bool) -> Iterator[Item]:
    if encoding == "auto" and not line_by_line:
        # First try UTF-8 with the block reader, which checks every byte; `detect` reads the whole file, so
        # it runs only when that fails (and then decides the same: valid UTF-8 throughout means UTF-8).
        codec = "utf-8"
        try:
            names = read_header(path, codec)
        except InvalidInput:
            raise NeedsLinePass from None
    else:
        codec = detect(path) if encoding == "auto" else encoding
        names = read_header(path, codec)
    _check_header(contract, names, path)
    if codec == "utf-8" and not line_by_line:
        try:
            yield from _numbered(_arrow_csv(path, names), None)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise NeedsLinePass from None
        return
    passed = line_pass(path, names, codec)
    try:
        yield from passed.bad
        try:
            yield from _numbered(_arrow_csv(passed.clean, names), passed.rows)
        except pa.ArrowInvalid:
            # The clean copy holds only records of the right width in UTF-8, so this is not expected;
            # answer without Arrow's message, which quotes row content.
            raise InvalidInput(
                detail=f"{path.name}: CSV 无法解析 / malformed CSV",
                fields=[FieldError("file", "malformed CSV")],
            ) from None
    finally:
        passed.clean.unlink(missing_ok=True)


def _parquet_items(contract: Contract, path: Path) -> Iterator[Item]:
    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError):
        raise InvalidInput(
            detail=f"{path.name}: 不是可读的 Parquet 文件 / not a readable Parquet file",
            fields=[FieldError("file", "Parquet 无法读取 / unreadable Parquet")],
        ) from None
    _check_header(contract, list(file.schema_arrow.names), path)
    try:
        yield from _numbered(file.iter_batches(batch_size=BATCH_ROWS), None)
    except (pa.ArrowInvalid, OSError):
        raise InvalidInput(
            detail=f"{path.name}: Parquet 数据损坏 / corrupt Parquet data",
            fields=[FieldError("file", "Parquet 无法读取 / unreadable Parquet")],
        ) from None


def raw_items(
    contract: Contract, path: Path, encoding: str = "auto", line_by_line: bool = False
) -> Iterator[Item]:
    """The file's rows as numbered batches of the contract's columns, and (CSV) its unreadable lines.

    Raises NeedsLinePass (CSV, first attempt only) when the fast block reader cannot read the file; the
    caller then starts again with `line_by_line=True`."""
    items = (
        _csv_items(contract, path, encoding, line_by_line)
        if path.suffix == ".csv"
        else _parquet_items(contract, path)
    )
    for item in items:
        if isinstance(item, Part):
            yield Part(item.batch.select(list(contract.column_names)), item.rows)
        else:
            yield item


def row_count(path: Path) -> int | None:
    """Rows in a Parquet file from its footer (for the progress bar); None for CSV."""
    return pq.ParquetFile(path).metadata.num_rows if path.suffix == ".parquet" else None
