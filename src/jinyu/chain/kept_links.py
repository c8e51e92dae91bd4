"""A stored month's links kept as arrays beside the lake, so that a cold ranking skips the lake read (issue 16).

A cold ranking of a stored month (no ranking held or kept under its key: a month older than the latest of a
build, or any month after the ranking's parameters or engine changed) read the build's links from the lake:
at 200k nodes / 2M links ~0.6 s on a quiet slow machine of a ~1.5 s ranking, most of it the two USCC columns
(4M strings scanned, turned into Arrow and checked link by link against the ids). The names are needed only once
per node (200k), the ids and weights are plain numbers.

So the build (`jinyu.chain.scheduler.rank_before_append`, before the append) also keeps each chain's month
here, in the results store beside the lake (`jinyu.analytics.results`, named by chain and month and stamped
with the build's `built_at`, like the kept ranking): one row of four list columns — the node USCCs in id
order, `payer_id` and `payee_id` as int32 and the weights as int64 fen, in the build's (payer, payee) order.
The store reads its files memory-mapped, so `load` takes the lists' values as zero-copy views (no Python object,
no Decimal, no string per link) and checks the shape a ranking relies on: the key in the metadata, one row,
equal lengths, ids in range and dense, USCCs strictly increasing (so the ids are in USCC order). A file that is
not that is not used: the caller reads the lake as before. The ranking from these arrays is the same, to the
bit, as from the lake's rows (`id_links.from_table` of the same build: the same names, ids, order and fen).

A build's links never change (a rebuild is a new `built_at`, whose file replaces this one), so the file holds
as long as the build is the current one. Disk: ~18 bytes per link (2M links: ~36 MB per chain and month).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jinyu.analytics import ResultCache
from jinyu.analytics.results import Key as ResultKey
from jinyu.analytics.results import stamped
from jinyu.chain.id_links import IdLinks

NAME = "chain_network_arrays"
FORMAT = 1
SCHEMA = pa.schema(
    [
        ("names", pa.list_(pa.string())),
        ("payer_id", pa.list_(pa.int32())),
        ("payee_id", pa.list_(pa.int32())),
        ("fen", pa.list_(pa.int64())),
    ]
)


def store_key(code: str, as_of_month: str, built_at: dt.datetime) -> ResultKey:
    """The results store's key of one chain's build of a month: the question and the build's `built_at`."""
    params: dict[str, object] = {"chain_code": code, "as_of_month": as_of_month, "format": FORMAT}
    return stamped(NAME, params, built_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ"))


def to_table(key: ResultKey, links: IdLinks) -> pa.Table:
    def one(values: pa.Array) -> pa.ListArray:
        return pa.ListArray.from_arrays(pa.array([0, len(values)], pa.int32()), values)

    table = pa.Table.from_arrays(
        [
            one(links.names),
            one(pa.array(links.payer, pa.int32())),  # ids below 2**31: the lake keeps them as int32
            one(pa.array(links.payee, pa.int32())),
            one(pa.array(links.fen, pa.int64())),
        ],
        schema=SCHEMA,
    )
    return table.replace_schema_metadata({"key": repr(key)})


def from_table(key: ResultKey, table: pa.Table) -> IdLinks | None:
    """The links a file holds, or None when it is not the file of `key` or not of the shape a ranking needs."""
    meta = table.schema.metadata or {}
    if not table.schema.equals(SCHEMA) or meta.get(b"key") != repr(key).encode() or table.num_rows != 1:
        return None
    lists = [table.column(name).combine_chunks() for name in SCHEMA.names]
    if any(c.null_count for c in lists):
        return None
    names, payer32, payee32, fen = (c.flatten() for c in lists)  # views of the mapped file's values
    n, m = len(names), len(payer32)
    if names.null_count or len(payee32) != m or len(fen) != m or (n == 0) != (m == 0):
        return None
    if n > 1 and not pc.all(pc.greater(names.slice(1), names.slice(0, n - 1))).as_py():
        return None  # not in USCC order (or a name twice)
    payer = payer32.to_numpy().astype(np.int64)  # the ranking's int64 ids: one copy, 2M links ~5 ms
    payee = payee32.to_numpy().astype(np.int64)
    if m and (min(payer.min(), payee.min()) < 0 or max(payer.max(), payee.max()) >= n):
        return None
    seen = np.zeros(n, bool)
    seen[payer] = True
    seen[payee] = True
    if not seen.all():  # a name no link has: not the dense ids of a build
        return None
    # The names and fen stay views: a ranking takes its own copy of what it keeps (`id_links.ranked`).
    return IdLinks(names, payer, payee, fen.to_numpy())


def load(store: ResultCache, code: str, as_of_month: str, built_at: dt.datetime) -> IdLinks | None:
    """The links of that build of the chain's month kept in `store`, or None (not kept, or not usable)."""
    key = store_key(code, as_of_month, built_at)
    table = store.get(key, in_memory=False)
    return None if table is None else from_table(key, table)


def keep(store: ResultCache, code: str, as_of_month: str, built_at: dt.datetime, links: IdLinks) -> None:
    """Keep the links of that build for every worker and the next process (not in this one's memory)."""
    key = store_key(code, as_of_month, built_at)
    store.put(key, to_table(key, links), in_memory=False)
