"""Ranking a stored month from its links' dense node ids, as arrays (issue 16).

A stored build gives each chain's network enterprises ids 0..n−1 in USCC order and keeps them with the links,
sorted by (payer, payee) (`jinyu.chain.stored`). So the id → enterprise map is the sorted list of the month's
USCCs, and the links go to `network.rank_arrays` as they are read: numpy views of the Arrow columns, no Python
object per link, no numbering and no sort (`network.sorted_links` checks the order in one pass).

The answer is exactly `network.centrality`'s on the same links, which numbers nodes in USCC order as well:
the same graph, edge for edge, so PageRank and betweenness equal to the bit. The weights given to igraph are
fen / 100 as a double — one correctly rounded division of exact numbers, so the same double as
`float(Decimal)` of the stored weight — and the money paid and received is summed in integer fen, exact, and
given back as the same Decimals the Decimal sums make (`0` for a node that pays nothing, else two places).

Links that do not have that shape (an id missing or out of range, ids not dense, links not sorted, one id
under two names) give None: the caller ranks from the names instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jinyu.chain import network
from jinyu.chain.network import Centrality

FEN = pa.decimal128(38, 2)


@dataclass(frozen=True)
class IdLinks:
    names: list[str]  # id → USCC (sorted)
    payer: np.ndarray  # int64 ids, sorted by (payer, payee)
    payee: np.ndarray
    fen: np.ndarray  # int64 weights in fen


def from_table(table: pa.Table) -> IdLinks | None:
    """The links of one chain's stored month (payer, payee, weight, payer_id, payee_id; marker row left out) as
    arrays, or None when their ids are not dense ids of the names in USCC order."""
    if table.num_rows == 0:
        return IdLinks([], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    ids = [table.column(c) for c in ("payer_id", "payee_id")]
    if any(c.null_count for c in ids) or table.column("payer").null_count or table.column("payee").null_count:
        return None
    payer, payee = (c.to_numpy().astype(np.int64) for c in ids)
    fen = _fen(table.column("weight"))
    if fen is None or min(payer.min(), payee.min()) < 0:
        return None
    n = int(max(payer.max(), payee.max())) + 1
    seen = np.zeros(n, bool)
    seen[payer] = True
    seen[payee] = True
    if not seen.all():  # not dense
        return None
    names = _names(table, payer, payee, n)
    return None if names is None else IdLinks(names, payer, payee, fen)


def _fen(weight: pa.ChunkedArray) -> np.ndarray | None:
    """The weights as int64 fen, read from the decimals' 128-bit words (no Python object per value); None when
    one does not fit 64 bits."""
    column = weight.cast(FEN).combine_chunks()
    words = np.frombuffer(column.buffers()[1], dtype="<i8").reshape(-1, 2)[
        column.offset : column.offset + len(column)
    ]
    low, high = words[:, 0], words[:, 1]
    return low.copy() if bool(np.all(high == (low >> 63))) else None


def _names(table: pa.Table, payer: np.ndarray, payee: np.ndarray, n: int) -> list[str] | None:
    """id → USCC from a link naming each id; None when the names are not strictly increasing by id
    (then the ids were not given in USCC order) or an id has two names."""
    index = np.concatenate([payer, payee])
    first = np.empty(n, np.int64)  # every id occurs (dense, checked by the caller)
    first[index] = np.arange(
        len(index)
    )  # any link naming the id will do: every one is checked against it below
    both = pa.chunked_array(table.column("payer").chunks + table.column("payee").chunks, pa.string())
    names = both.take(pa.array(first))
    if not pc.all(pc.equal(both, names.take(pa.array(index)))).as_py():
        return None
    if n > 1 and not pc.all(pc.greater(names.slice(1), names.slice(0, n - 1))).as_py():
        return None
    result: list[str] = names.to_pylist()
    return result


def centrality(links: IdLinks, betweenness_max_nodes: int) -> list[Centrality]:
    """`network.centrality` of these links, from the arrays; nodes in id (USCC) order."""
    n = len(links.names)
    if n == 0:
        return []
    weight = links.fen.astype(np.float64) / 100.0
    supplier, buyer, between = network.rank_arrays(
        n, links.payer, links.payee, weight, n <= betweenness_max_nodes
    )
    paid = _money(links.payer, links.fen, n)
    received = _money(links.payee, links.fen, n)
    return [
        Centrality(
            name,
            supplier[i],
            buyer[i],
            between[i] if between is not None else None,
            paid[i],
            received[i],
        )
        for i, name in enumerate(links.names)
    ]


def _money(ends: np.ndarray, fen: np.ndarray, n: int) -> list[Decimal]:
    """Each node's sum of `fen` over its links at `ends`, as the Decimal sum starting from Decimal(0) gives it:
    `0` with no link, else the fen with two places."""
    total = np.zeros(n, np.int64)
    np.add.at(total, ends, fen)
    has = np.bincount(ends, minlength=n) > 0
    zero = Decimal(0)
    return [
        Decimal(int(t)).scaleb(-2) if h else zero for t, h in zip(total.tolist(), has.tolist(), strict=True)
    ]
