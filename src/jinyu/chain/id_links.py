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
under two names) give None: the caller ranks from the names instead. Links given by name (`from_names`: a month
computed from transfers, or a build made before the ids) are numbered the same way, in USCC order, and ranked by
the same code, so every path gives one answer.

The ranking is columnar (`ranked` → `jinyu.chain.resident.Ranked`): the nodes' USCCs as one Arrow array, the
PageRanks and betweenness as float64 arrays, money as int64 fen and each node's count of links paid and received;
no Python object per node. A caller builds `Centrality` rows only for the nodes it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jinyu.chain import network, resident
from jinyu.chain.network import Centrality

FEN = pa.decimal128(38, 2)
# Below this total of |fen| every partial sum of a node's links is an integer a float64 holds exactly, so
# `np.bincount`'s float sums are exact; above it the sums go through `np.add.at` in int64.
_EXACT_IN_DOUBLE = 2**53


@dataclass(frozen=True)
class IdLinks:
    names: pa.StringArray  # id → USCC (sorted)
    payer: np.ndarray  # int64 ids, sorted by (payer, payee) when read from a build
    payee: np.ndarray
    fen: np.ndarray  # int64 weights in fen


def from_table(table: pa.Table) -> IdLinks | None:
    """The links of one chain's stored month (payer, payee, weight, payer_id, payee_id; marker row left out) as
    arrays, or None when their ids are not dense ids of the names in USCC order."""
    if table.num_rows == 0:
        return _empty()
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


def from_names(links: Mapping[tuple[str, str], Decimal]) -> IdLinks:
    """Links given by name (decayed Decimal weights in whole fen, as `rules.decayed_links` and a stored build
    give them), numbered in USCC order as a build numbers them. A weight not in whole fen is refused
    (ValueError), not rounded: the ranking's money is kept in fen."""
    if not links:
        return _empty()
    names = sorted({u for pair in links for u in pair})
    index = {name: i for i, name in enumerate(names)}
    payer = np.fromiter((index[a] for a, _ in links), np.int64, len(links))
    payee = np.fromiter((index[b] for _, b in links), np.int64, len(links))
    try:  # Arrow refuses a value that would lose digits at scale 2 (no rounding)
        weights = pa.chunked_array([pa.array(list(links.values()), FEN)])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise ValueError(f"link weights must be whole fen: {e}") from e
    fen = _fen(weights)
    if fen is None:
        raise ValueError("a link weight does not fit 64-bit fen")
    return IdLinks(pa.array(names, pa.string()), payer, payee, fen)


def _empty() -> IdLinks:
    none = np.zeros(0, np.int64)
    return IdLinks(pa.array([], pa.string()), none, none.copy(), none.copy())


def _fen(weight: pa.ChunkedArray) -> np.ndarray | None:
    """The weights as int64 fen, read from the decimals' 128-bit words (no Python object per value); None when
    one does not fit 64 bits."""
    column = weight.cast(FEN).combine_chunks()
    words = np.frombuffer(column.buffers()[1], dtype="<i8").reshape(-1, 2)[
        column.offset : column.offset + len(column)
    ]
    low, high = words[:, 0], words[:, 1]
    return low.copy() if bool(np.all(high == (low >> 63))) else None


def _names(table: pa.Table, payer: np.ndarray, payee: np.ndarray, n: int) -> pa.StringArray | None:
    """id → USCC from a link naming each id; None when the names are not strictly increasing by id
    (then the ids were not given in USCC order) or an id has two names."""
    index = np.concatenate([payer, payee])
    first = np.empty(n, np.int64)  # every id occurs (dense, checked by the caller)
    first[index] = np.arange(
        len(index)
    )  # any link naming the id will do: every one is checked against it below
    both = pa.chunked_array(table.column("payer").chunks + table.column("payee").chunks, pa.string())
    names = both.take(pa.array(first)).combine_chunks()
    if not pc.all(pc.equal(both, names.take(pa.array(index)))).as_py():
        return None
    if n > 1 and not pc.all(pc.greater(names.slice(1), names.slice(0, n - 1))).as_py():
        return None
    return names


def ranked(links: IdLinks, betweenness_max_nodes: int) -> resident.Ranked:
    """Every node by PageRank (supplier) descending, then USCC, as columns (`resident.Ranked`): the ids are in
    USCC order, so a stable sort of the ids by rank breaks ties the same way."""
    n = len(links.names)
    supplier, buyer, between, paid, received, paying, receiving = _columns(links, betweenness_max_nodes)
    order = np.argsort(-supplier, kind="stable")
    return resident.Ranked(
        uscc=links.names.take(pa.array(order)),
        pagerank_supplier=supplier[order],
        pagerank_buyer=buyer[order],
        betweenness=None if between is None else between[order],
        paid_fen=paid[order],
        received_fen=received[order],
        paying=paying[order],
        receiving=receiving[order],
        nodes=n,
        links=len(links.payer),
    )


def centrality(links: IdLinks, betweenness_max_nodes: int) -> list[Centrality]:
    """`network.centrality` of these links, from the arrays; nodes in id (USCC) order (every node as a Python
    object: for small networks and tests; the product keeps `ranked`'s columns)."""
    found = ranked(links, betweenness_max_nodes)
    return sorted(found.centralities, key=lambda c: c.uscc)


def _columns(
    links: IdLinks, betweenness_max_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PageRank both ways, betweenness (or None), fen paid and received and links paid and received on, by id."""
    n = len(links.names)
    if n == 0:
        empty, none = np.zeros(0, np.float64), np.zeros(0, np.int64)
        return empty, empty.copy(), None, none, none.copy(), none.copy(), none.copy()
    weight = links.fen.astype(np.float64) / 100.0
    supplier, buyer, between = network.rank_arrays(
        n, links.payer, links.payee, weight, n <= betweenness_max_nodes
    )
    paid, received = _money(links.payer, links.fen, n), _money(links.payee, links.fen, n)
    paying = np.bincount(links.payer, minlength=n).astype(np.int64)
    receiving = np.bincount(links.payee, minlength=n).astype(np.int64)
    return (
        np.asarray(supplier, np.float64),
        np.asarray(buyer, np.float64),
        None if between is None else np.asarray(between, np.float64),
        paid,
        received,
        paying,
        receiving,
    )


def _money(ends: np.ndarray, fen: np.ndarray, n: int) -> np.ndarray:
    """Each node's sum of `fen` over its links at `ends`, in int64 fen, exact: summed in float64 (one C pass)
    when no partial sum can exceed 2**53, else in int64 item by item (`np.add.at`)."""
    if len(fen) and int(np.abs(fen).max()) * len(fen) < _EXACT_IN_DOUBLE:
        return np.bincount(ends, weights=fen, minlength=n).astype(np.int64)
    total = np.zeros(n, np.int64)
    np.add.at(total, ends, fen)
    return total
