"""CSV files line by line: encodings, and lines that cannot be read, set aside with their line number.

The usual file (valid UTF-8, every record with the header's number of fields) is read by Arrow in large
blocks (reader.py). Anything else goes through `line_pass`: each physical line is decoded on its own, records
are split with the csv module, and every line that cannot be decoded or whose record has the wrong number of
fields becomes a `BadLine` (quarantined by the pipeline) while the readable records are copied, as UTF-8, to a
private temporary file that Arrow then reads. Messages name line numbers and counts, never the content.

Encoding rule (documented in docs/data-formats.md):
- declared (`--encoding` / the upload's `encoding` parameter): `utf-8`, `gbk` or `gb18030`, used as given;
- `auto` (the default): UTF-8 when the file starts with a UTF-8 byte-order mark; otherwise GB18030 when at
  least one line has bytes outside ASCII and none of those lines is valid UTF-8; otherwise UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinyu.core.errors import FieldError, InvalidInput

ENCODINGS = ("auto", "utf-8", "gbk", "gb18030")
_ALIASES = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gb2312": "gbk", "cp936": "gbk"}
BOM = codecs.BOM_UTF8


def encoding_of(value: str | None) -> str:
    """The declared encoding, normalised; a bad one is a field error of `encoding`."""
    name = (value or "auto").strip().lower()
    name = _ALIASES.get(name, name)
    if name not in ENCODINGS:
        raise InvalidInput(
            detail="不支持的编码 / unsupported encoding",
            fields=[
                FieldError("encoding", f"应为 {' / '.join(ENCODINGS)} 之一 / must be one of {ENCODINGS}")
            ],
        )
    return name


def detect(path: Path) -> str:
    """`auto`: which codec the file is read with (see the module docstring)."""
    with path.open("rb") as f:
        if f.read(len(BOM)) == BOM:
            return "utf-8"
        f.seek(0)
        seen_non_ascii = False
        for raw in f:
            if raw.isascii():
                continue
            seen_non_ascii = True
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return "utf-8"
    return "gb18030" if seen_non_ascii else "utf-8"


@dataclass(frozen=True)
class BadLine:
    """A record that could not be read: its row number, first physical line, reason and best-effort cells."""

    row: int  # data row number in the file: 1 is the first record after the header, bad ones included
    line: int  # physical line number in the file: 1 is the header
    reason: str
    cells: dict[str, str]


@dataclass
class LinePass:
    """What `line_pass` produced: the clean UTF-8 copy, the row number of each record in it, the bad lines."""

    clean: Path
    codec: str
    rows: array[int] = field(default_factory=lambda: array("q"))
    bad: list[BadLine] = field(default_factory=list)


def read_header(path: Path, codec: str) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError:
        raise InvalidInput(
            detail=f"{path.name}: 表头不是有效的 {codec} 文本 / header line is not valid {codec} text",
            fields=[FieldError("file", f"表头无法解码 / header cannot be decoded as {codec}")],
        ) from None
    try:
        names = next(csv.reader([text]), [])
    except csv.Error:  # e.g. a lone carriage return inside the line: not a CSV header at all
        raise InvalidInput(
            detail=f"{path.name}: 表头不是 CSV / header line cannot be parsed as CSV",
            fields=[FieldError("file", "表头无法解析 / header cannot be parsed as CSV")],
        ) from None
    return [n.strip() for n in names]


def _cells(names: list[str], values: list[str]) -> dict[str, str]:
    return {n: v for n, v in zip(names, values, strict=False)}


def line_pass(path: Path, names: list[str], codec: str) -> LinePass:
    """Copy the readable records of `path` to a private temporary UTF-8 CSV; collect the bad lines."""
    fd, temp = tempfile.mkstemp(prefix="jinyu-ingest-", suffix=".csv")  # 0600
    result = LinePass(clean=Path(temp), codec=codec)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out, path.open("rb") as src:
            writer = csv.writer(out)
            writer.writerow(names)
            src.readline()  # the header, checked by the caller
            _copy_records(src, names, codec, writer, result)
    except BaseException:
        result.clean.unlink(missing_ok=True)
        raise
    return result


def _copy_records(src: Iterator[bytes], names: list[str], codec: str, writer: Any, result: LinePass) -> None:
    fed: list[int] = []  # physical lines of the record being read
    row = 0

    def lines() -> Iterator[str]:
        nonlocal row
        for number, raw in enumerate(src, start=2):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                row += 1
                reason = (
                    f"bad_encoding:第{number}行不是有效的 {codec} 文本 / line {number} is not valid {codec}"
                )
                loose = next(csv.reader([raw.decode(codec, errors="replace")]), [])
                result.bad.append(BadLine(row, number, reason, _cells(names, loose)))
                continue
            fed.append(number)
            yield text

    records = csv.reader(lines())
    while True:
        try:
            values = next(records)
        except StopIteration:
            break
        except csv.Error:
            row += 1
            first = fed[0] if fed else 0
            reason = f"malformed_line:第{first}行无法解析 / line {first} cannot be parsed as CSV"
            result.bad.append(BadLine(row, first, reason, {}))
            fed.clear()
            continue
        first = fed[0] if fed else 0
        fed.clear()
        if not values:
            continue  # a blank line is not a record
        row += 1
        if len(values) != len(names):
            reason = (
                f"malformed_line:第{first}行有{len(values)}个字段，应为{len(names)}个 / "
                f"line {first} has {len(values)} fields, expected {len(names)}"
            )
            result.bad.append(BadLine(row, first, reason, _cells(names, values)))
            continue
        writer.writerow(values)
        result.rows.append(row)
