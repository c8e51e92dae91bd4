"""Hashed key columns: a 64-bit integer beside a text key, written into the lake at ingestion.

A reference check (a loan's borrower is a registered enterprise) compares every record's key with the
target's keys. On 18-character codes that string work was most of a check's time (hashing the text of every
record, twice); with `<column>__key` in both datasets the engines compare 64-bit integers instead.

The key is the first 8 bytes of BLAKE2b (personalised `jinyu-key`) of the value's UTF-8 text, as a signed
64-bit integer; NULL for NULL. It is computed once per distinct value of a load (Arrow dictionary encoding),
so it costs ingestion little. Only non-personal columns are hashed (a contract's `hashed`): an unsalted hash
of a resident ID could be reversed by trying every ID, so personal columns never get one.

Equal values have equal keys; two different values share a key only by a 64-bit collision. A check on keys
therefore finds every unregistered value whose key no registered value has — exactly the string check's
failures unless an unregistered value collides with a registered one (probability about
distinct values × registered values / 2^64, ≈ 5·10^-10 for 100,000 of each). See docs/governance.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

KEY_SUFFIX = "__key"
_PERSON = b"jinyu-key"


def key_column(column: str) -> str:
    return column + KEY_SUFFIX


def key_of(value: str) -> int:
    """The key of one value (the reference implementation; `key_array` applies it per distinct value)."""
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8, person=_PERSON).digest()
    return int.from_bytes(digest, "big", signed=True)


def key_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value's key (int64, NULL for NULL), hashed once per distinct value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    encoded = pc.dictionary_encode(values.cast(pa.string()))
    distinct = pa.array([key_of(v) for v in encoded.dictionary.to_pylist()], pa.int64())
    return pc.take(distinct, encoded.indices)


def with_keys(table: pa.Table, columns: Iterable[str]) -> pa.Table:
    """`table` with `<column>__key` appended for each of `columns` (replaced if already there)."""
    for column in columns:
        name = key_column(column)
        keys = key_array(table[column])
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, keys)
        else:
            table = table.append_column(name, keys)
    return table
