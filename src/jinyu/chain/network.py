"""Core enterprises by network position: weighted PageRank and betweenness with python-igraph.

Edges run payer → payee weighted by decayed payments (`rules.decayed_links`). PageRank on that direction
ranks enterprises that many (heavily paying) enterprises pay, i.e. key suppliers; on the reversed graph it
ranks key buyers. Betweenness (shortest paths, distance = 1 / weight) is exact and O(V·E), so above
`betweenness_max_nodes` it is skipped (reported as null) rather than sampled: a cutoff on path length means
little when lengths are 1 / money, and a sampled value could reorder the top of the ranking unannounced.

The graph is built from integer index arrays sorted by (payer, payee) first (`sorted_links`). igraph indexes a
new graph's edges with a bucket sort by source and by target (`igraph_vector_int_pair_order`); fed 2M links
in the SQL's arbitrary order, that sort missed the cache on nearly every edge and was most of the build (55 %
of its `perf` samples; the build 1.2 CPU s on a loaded machine, against 0.17 s to sort + 0.23 s to build
sorted). The pairs go over as `zip` of two memoryviews of the int64 ends: python-igraph reads any edge list
item by item (its limited-API wheel has no array constructor), and from an (E, 2) array each item is a row view
and two NumPy scalars; an (E, 2) `tolist` instead makes 2M small lists that set off the garbage collector
(+1 s), and two int lists (the previous form) 4M ints held at once. The order changes no bit of the result:
igraph's indexes order edges by their ends (then by id), and PRPACK reads them in that order, so the ranks
are the same however the links come in; parallel links keep their order, so igraph numbers them as before
(`tests/chain/test_network.py`). Links that already come in that order (dense integer ids given once and kept
with the links, sorted: a stored build's `payer_id`/`payee_id`, `jinyu.chain.id_links`) are checked in one pass
and not sorted again. Nodes are numbered in USCC order on every path: the numbering, unlike the links' order,
moves PRPACK's last bits.

igraph ranks with **one OpenMP thread** (`threadpoolctl`): PRPACK's PageRank runs OpenMP threads whose partial
sums land in a varying order, so with two threads the same graph ranked twice differed in the last bits
(5,000 nodes / 56k links: every node, ~1e-13 relative) — enough to swap near ties between two workers, and to
make a kept ranking (`jinyu.chain.resident`) differ from a cold one. With one thread it is the same every time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import igraph as ig
import numpy as np
from threadpoolctl import ThreadpoolController

DAMPING = 0.85  # PageRank's damping factor (igraph's default, stated)
# What ranks, in a kept ranking's key (`jinyu.chain.resident`): another igraph or thread count is another question.
# Rankings kept before nodes were numbered in USCC order differ in last bits: the words below make them another.
ENGINE = f"igraph {ig.__version__} prpack, 1 thread, nodes in USCC order"
_THREADS = ThreadpoolController()  # the OpenMP runtime igraph loaded (found once: the lookup scans libraries)
# The thread limit is the process's and leaving it restores what was there on entering: rankings run one at a
# time, so one ranking's exit cannot give OpenMP its threads back under another still running (whose last bits
# would then depend on the thread count).
_ONE_RANKING_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Centrality:
    uscc: str
    pagerank_supplier: float  # on payer → payee
    pagerank_buyer: float  # on payee → payer
    betweenness: float | None
    paid: Decimal  # weighted money paid out on the network
    received: Decimal


def rank_arrays(
    n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray, with_betweenness: bool
) -> tuple[list[float], list[float], list[float] | None]:
    """PageRank both ways (and betweenness) of a graph given as index arrays: the part that scales."""
    payer, payee, weight = sorted_links(n, payer, payee, weight)
    with _ONE_RANKING_AT_A_TIME, _THREADS.limit(limits=1, user_api="openmp"):  # reproducible to the bit
        # Each end read through a memoryview: python-igraph takes the pairs item by item in either form, but
        # ints made one at a time and dropped at once reuse the same memory, where `tolist` first builds 4M
        # int objects (~110 MB) and igraph then walks them (`benchmarks/chain_rank_arrays_ab.py`: the whole
        # ranking of 2M links 1.1-1.24x less CPU). The same edges, so the same graph.
        ends = (np.ascontiguousarray(e, dtype=np.int64).data for e in (payer, payee))  # memoryviews
        graph = ig.Graph(n=n, edges=zip(*ends, strict=True), directed=True)
        weights = weight.tolist()  # one list shared by both PageRanks: edge ids do not change below
        supplier = graph.pagerank(weights=weights, directed=True, damping=DAMPING, implementation="prpack")
        between = None
        if with_betweenness:
            distance = np.where(weight > 0, 1.0 / np.maximum(weight, 1e-12), 1e12).tolist()
            between = graph.betweenness(directed=True, weights=distance)
        graph.reverse_edges()  # in place, edge ids (and so the weights' order) kept: no second graph to build
        buyer = graph.pagerank(weights=weights, directed=True, damping=DAMPING, implementation="prpack")
    return supplier, buyer, between


def sorted_links(
    n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links sorted by (payer, payee), parallel links kept in their order (stable), so that igraph's
    index sort hits the cache and numbers parallel links as before (the module's doc). Links that come sorted
    (kept with dense ids in that order, as `benchmarks/chains_data.kept_links` keeps them) are returned as
    they are: one pass to check (~0.01 s at 2M) instead of the sort; the same values as sorting gives."""
    m = len(payer)
    ends = payer.astype(np.int64) * n + payee
    if m < 2 or bool(np.all(ends[1:] >= ends[:-1])):
        return payer, payee, weight
    shift = max(m - 1, 1).bit_length()
    if (n * n - 1).bit_length() + shift <= 63:
        # One int64 sort of (ends, position) packed in a word: stable by construction, and NumPy's vectorised
        # sort of plain integers takes a quarter of a stable argsort's time (2M links: ~0.06 against 0.25 s).
        packed = np.sort((ends << shift) | np.arange(m, dtype=np.int64))
        order, ends = packed & ((1 << shift) - 1), packed >> shift
    else:
        order = np.argsort(ends, kind="stable")
        ends = ends[order]
    return ends // n, ends % n, weight[order]


def centrality(links: Mapping[tuple[str, str], Decimal], betweenness_max_nodes: int) -> list[Centrality]:
    if not links:
        return []
    # Nodes numbered in USCC order, as a stored build numbers them (`jinyu.chain.id_links`): the numbering moves
    # PRPACK's last bits (~1e-16), so one order for every path gives one answer to the bit.
    names = sorted({u for pair in links for u in pair})
    index = {name: i for i, name in enumerate(names)}
    payer = np.fromiter((index[a] for a, _ in links), np.int64, len(links))
    payee = np.fromiter((index[b] for _, b in links), np.int64, len(links))
    weight = np.fromiter((float(w) for w in links.values()), np.float64, len(links))
    n = len(names)
    supplier, buyer, between = rank_arrays(n, payer, payee, weight, n <= betweenness_max_nodes)
    paid = dict.fromkeys(names, Decimal(0))
    received = dict.fromkeys(names, Decimal(0))
    for (a, b), w in links.items():
        paid[a] += w
        received[b] += w
    return [
        Centrality(
            name,
            supplier[i],
            buyer[i],
            between[i] if between is not None else None,
            paid[name],
            received[name],
        )
        for i, name in enumerate(names)
    ]
