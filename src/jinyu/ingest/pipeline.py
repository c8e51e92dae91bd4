"""The validation pipeline of one load: raw batches in, one typed Arrow table and quarantined rows out.

Stages, each adding reasons rather than dropping rows: cell checks (vectorised per batch, row by row for a
batch that needs it) → protection of personal columns → keys repeated in the file → keys already in the lake
→ references to records that do not exist. Every input row ends up either accepted or quarantined with its
reasons; `accepted + rejected == rows_total` always. Accepted rows carry their file row number in `ROW`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.core.privacy import Keys, mask_name, pseudonymize
from jinyu.core.sealed import Sealer
from jinyu.governance.contracts import Column, Contract, Kind, Protect
from jinyu.ingest import quarantine as quarantine_file
from jinyu.ingest.fast import typed_batch
from jinyu.ingest.rules import reason_code, validate_row

ROW = "__row"
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


def numbered_schema(contract: Contract) -> pa.Schema:
    return arrow_schema(contract).append(pa.field(ROW, pa.int64(), nullable=False))


@dataclass
class Quarantine:
    """Rejected rows with every reason; written with each row sealed (it may hold raw personal values)."""

    contract: Contract
    rows: list[tuple[int, list[str], dict[str, Any]]] = field(default_factory=list)

    def add(self, row_number: int, problems: list[str], raw: dict[str, Any]) -> None:
        self.rows.append((row_number, problems, raw))

    def by_reason(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for _, problems, _ in self.rows:
            counts.update({reason_code(p) for p in problems})
        return dict(sorted(counts.items()))

    def write(self, path: Path, sealer: Sealer) -> Path | None:
        """The quarantine file: row numbers and reasons in clear, each row only sealed (`ingest.quarantine`)."""
        if not self.rows:
            return None
        return quarantine_file.write(path, self.contract.name, self.contract.column_names, self.rows, sealer)


def validate_batch(
    contract: Contract, batch: pa.RecordBatch, numbers: pa.Array, quarantine: Quarantine
) -> pa.Table:
    """Typed rows of one batch that pass their cell checks, numbered; the others go to quarantine."""
    fast = typed_batch(contract, batch, arrow_schema(contract))
    if fast is not None:
        return fast.append_column(ROW, numbers)
    accepted: list[dict[str, Any]] = []
    for number, raw in zip(numbers.to_pylist(), batch.to_pylist(), strict=True):
        typed, problems = validate_row(contract, raw)
        if typed is None:
            quarantine.add(number, problems, raw)
        else:
            accepted.append({**typed, ROW: number})
    return pa.Table.from_pylist(accepted, schema=numbered_schema(contract))


def _protect_column(column: Column, table: pa.Table, key: Keys) -> pa.Array:
    values = table[column.name].to_pylist()
    when = table[column.protect_if[0]].to_pylist() if column.protect_if else None
    out = []
    for i, value in enumerate(values):
        applies = value is not None and (when is None or when[i] == column.protect_if[1])  # type: ignore[index]
        if not applies:
            out.append(value)
        elif column.protect == Protect.TOKEN:
            out.append(pseudonymize(key, value, column.token_domain))
        else:
            out.append(mask_name(value))
    return pa.array(out, type=table.schema.field(column.name).type)


def protect(contract: Contract, table: pa.Table, key: Keys) -> pa.Table:
    """Personal columns replaced by keyed tokens or masked names before anything is written."""
    for column in contract.columns:
        if column.protect is not None and table.num_rows:
            index = table.schema.get_field_index(column.name)
            table = table.set_column(index, table.schema.field(index), _protect_column(column, table, key))
    return table


def _key_text(table: pa.Table, key: tuple[str, ...]) -> pa.Array:
    # An optional key column's null (related_parties.bank_code: the registry's rows) is one value, so two
    # registry rows with the same key are duplicates.
    parts = [pc.fill_null(pc.cast(table[k], pa.string()), "\x00") for k in key]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")


def repeated_key_mask(table: pa.Table, key: tuple[str, ...]) -> pa.Array:
    """True for every row whose key appeared on an earlier row of the file (the first one is kept)."""
    if table.num_rows < 2:
        return pa.array([False] * table.num_rows, type=pa.bool_())
    keyed = pa.table({"k": _key_text(table, key), "i": pa.array(range(table.num_rows), type=pa.int64())})
    ordered = keyed.sort_by([("k", "ascending"), ("i", "ascending")])
    keys = ordered["k"].combine_chunks()
    same_as_previous = pc.equal(keys.slice(1), keys.slice(0, len(keys) - 1))
    flags = pa.concat_arrays([pa.array([False]), same_as_previous.fill_null(False)])
    # Back to file order: sort the (original index, flag) pairs by the original index.
    back = pa.table({"i": ordered["i"], "f": flags}).sort_by("i")
    return back["f"].combine_chunks()


def reject(table: pa.Table, mask: pa.Array, problem: str, quarantine: Quarantine) -> pa.Table:
    """Move rows whose mask is true to quarantine with `problem`; return the rest."""
    if table.num_rows == 0 or not pc.any(mask).as_py():
        return table
    for row in table.filter(mask).to_pylist():
        number = row.pop(ROW)
        quarantine.add(number, [problem], row)
    return table.filter(pc.invert(mask))


def distinct_values(table: pa.Table, column: str) -> list[Any]:
    return [v for v in pc.unique(table[column]).to_pylist() if v is not None]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
