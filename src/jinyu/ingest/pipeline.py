"""The validation pipeline of one load: rows in, typed Arrow table and quarantined rows out.

Stages, each adding reasons rather than dropping rows: cell checks (rules.validate_row) → keys repeated in
the file → keys already in the lake → references to records that do not exist. Every input row ends up
either accepted or quarantined with its reasons; `accepted + rejected == rows_total` always.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.core.privacy import PERSON_DOMAIN, mask_name, pseudonymize
from jinyu.governance.contracts import Column, Contract, Kind, Protect
from jinyu.ingest.rules import reason_code, validate_row

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.INT: pa.int64(),
    Kind.DECIMAL: pa.decimal128(18, 2),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.BOOL: pa.bool_(),
    Kind.MONTH: pa.string(),
}


def arrow_schema(contract: Contract) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, ARROW_TYPES[c.kind], nullable=not c.required) for c in contract.columns]
    )


@dataclass
class Quarantine:
    """Rejected rows with every reason, written as CSV (0600: it may hold raw personal values)."""

    contract: Contract
    rows: list[tuple[int, list[str], dict[str, Any]]] = field(default_factory=list)

    def add(self, row_number: int, problems: list[str], raw: dict[str, Any]) -> None:
        self.rows.append((row_number, problems, raw))

    def by_reason(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for _, problems, _ in self.rows:
            counts.update({reason_code(p) for p in problems})
        return dict(sorted(counts.items()))

    def write(self, path: Path) -> Path | None:
        if not self.rows:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["row_number", "reasons", *self.contract.column_names])
            for number, problems, raw in sorted(self.rows, key=lambda r: r[0]):
                cells = ["" if raw.get(c) is None else str(raw.get(c)) for c in self.contract.column_names]
                writer.writerow([number, ";".join(problems), *cells])
        return path


def _protector(column: Column, key: bytes) -> Callable[[Any, dict[str, Any]], Any]:
    def protect(value: Any, row: dict[str, Any]) -> Any:
        if value is None:
            return None
        if column.protect_if is not None and row.get(column.protect_if[0]) != column.protect_if[1]:
            return value
        if column.protect == Protect.TOKEN:
            return pseudonymize(key, value, PERSON_DOMAIN)
        return mask_name(value)

    return protect


@dataclass
class Accepted:
    """Typed rows that passed cell checks, with their file row numbers (kept for later-stage rejections)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)


def validate_rows(
    contract: Contract,
    rows: Iterable[dict[str, Any]],
    first_number: int,
    seen_keys: set[tuple[Any, ...]],
    accepted: Accepted,
    quarantine: Quarantine,
) -> int:
    """Cell checks and in-file key repeats for one batch; returns how many rows it read."""
    count = 0
    for offset, raw in enumerate(rows):
        count += 1
        number = first_number + offset
        typed, problems = validate_row(contract, raw)
        if typed is not None:
            key = tuple(typed[k] for k in contract.key)
            if key in seen_keys:
                problems = ["duplicate_key_in_file:" + ",".join(contract.key)]
            else:
                seen_keys.add(key)
        if problems or typed is None:
            quarantine.add(number, problems, raw)
            continue
        accepted.rows.append(typed)
        accepted.numbers.append(number)
    return count


def reject_where(accepted: Accepted, mask: list[bool], problem: str, quarantine: Quarantine) -> Accepted:
    """Move rows whose mask is true to quarantine with `problem`; return the rest."""
    kept = Accepted()
    for row, number, bad in zip(accepted.rows, accepted.numbers, mask, strict=True):
        if bad:
            quarantine.add(number, [problem], row)
        else:
            kept.rows.append(row)
            kept.numbers.append(number)
    return kept


def to_arrow(contract: Contract, rows: list[dict[str, Any]], key: bytes) -> pa.Table:
    """Typed rows as an Arrow table with personal columns protected (tokens or masked names)."""
    protected = [(c.name, _protector(c, key)) for c in contract.columns if c.protect is not None]
    if protected:
        rows = [dict(row) for row in rows]
        for row in rows:
            for name, protect in protected:
                row[name] = protect(row[name], row)
    schema = arrow_schema(contract)
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()


def distinct_values(table: pa.Table, column: str) -> list[str]:
    return [v for v in pc.unique(table[column]).to_pylist() if v is not None]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
