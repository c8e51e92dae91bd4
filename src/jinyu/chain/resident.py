"""Rankings of stored network months kept resident in the process.

A stored month (`jinyu chain network-build`) does not change until it is rebuilt, and a rebuild is a new
`built_at`. So the ranking of a chain's stored month — PageRank both ways, betweenness when small enough, money
paid and received — is computed once (reading the links, building the igraph graph: seconds at 2M links) and
then answered from memory, keyed by the build's time and the parameters. The key is read with
`stored.current_stamp`, which reads no links. A month computed from its links (never built) is held in memory
only (`computed`), and only when its links' answer is named by the lake files it was read from
(`jinyu.chain.reads.answer_key`, the chain page's shared answers): a new load of transfers gives another name,
so the next request computes it again. Contagion cases computed from such links are held the same way (`case`).

**Kept for every worker** (`load`, `keep`): the ranking is also a file in the results store beside the lake
(`jinyu.analytics.results`, `stamped`: named by the question — chain, month, the parameters and what ranks —
and the build's `built_at`), written by the build before it is appended (`jinyu.chain.scheduler`) or by the
first worker that ranks a build cold. A worker that did not build, or a restarted one, reads it (a few
columns, no links, no graph) instead of ranking again. The file holds exactly what `Ranked` holds: PageRanks
and betweenness as float64 (bit for bit), money as the decimals' own text (so `Decimal("0")` stays `0`, not
`0.00`), nodes and links and the whole key in its metadata; a file whose metadata or columns are not those of
the key asked for, or that cannot be read, is not used (the caller ranks, as without it).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from jinyu.analytics import ResultCache
from jinyu.analytics.results import Key as ResultKey
from jinyu.analytics.results import stamped
from jinyu.chain import network
from jinyu.chain.contagion import Exposed
from jinyu.chain.network import Centrality

MAX_MONTHS = 8  # chain-months held; one ranking of 200k enterprises is ~60 MB of Python objects


@dataclass(frozen=True)
class Ranked:
    centralities: tuple[Centrality, ...]  # every node, by pagerank_supplier descending then USCC
    nodes: int
    links: int


Key = tuple[
    str, str, dt.datetime, str, int, int
]  # chain, month, built_at, decay, window, betweenness_max_nodes
RANKING = "chain_network_ranking"  # the question's name in the results store
FORMAT = 1  # the file's columns; another format is another question
SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("pagerank_supplier", pa.float64()),
        ("pagerank_buyer", pa.float64()),
        ("betweenness", pa.float64()),  # null when not computed
        ("paid", pa.string()),  # the Decimal's own text: exact, exponent kept
        ("received", pa.string()),
    ]
)

_HELD: OrderedDict[Key, Ranked] = OrderedDict()
_LOCK = threading.Lock()


def get(key: Key) -> Ranked | None:
    with _LOCK:
        held = _HELD.get(key)
        if held is not None:
            _HELD.move_to_end(key)
        return held


def put(key: Key, ranked: Ranked) -> None:
    with _LOCK:
        _HELD[key] = ranked
        _HELD.move_to_end(key)
        while len(_HELD) > MAX_MONTHS:
            _HELD.popitem(last=False)


def clear() -> None:
    with _LOCK:
        _HELD.clear()
        _COMPUTED.clear()
        _CASES.clear()


# Computed months (never built): (chain, month, the links' answer key, decay, window, betweenness limit) ->
# ranking; contagion cases: (chain, failing member, month, the links' answer key) -> the suppliers hit.
ComputedKey = tuple[str, str, Hashable, str, int, int]
CaseKey = tuple[str, str, str, Hashable]
MAX_CASES = 64  # a case lists the suppliers hit: kilobytes
_COMPUTED: OrderedDict[ComputedKey, Ranked] = OrderedDict()
_CASES: OrderedDict[CaseKey, tuple[Exposed, ...]] = OrderedDict()


def computed(key: ComputedKey) -> Ranked | None:
    with _LOCK:
        held = _COMPUTED.get(key)
        if held is not None:
            _COMPUTED.move_to_end(key)
        return held


def hold_computed(key: ComputedKey, ranked: Ranked) -> None:
    with _LOCK:
        _COMPUTED[key] = ranked
        _COMPUTED.move_to_end(key)
        while len(_COMPUTED) > MAX_MONTHS:
            _COMPUTED.popitem(last=False)


def case(key: CaseKey) -> tuple[Exposed, ...] | None:
    with _LOCK:
        held = _CASES.get(key)
        if held is not None:
            _CASES.move_to_end(key)
        return held


def hold_case(key: CaseKey, exposed: tuple[Exposed, ...]) -> None:
    with _LOCK:
        _CASES[key] = exposed
        _CASES.move_to_end(key)
        while len(_CASES) > MAX_CASES:
            _CASES.popitem(last=False)


def store_key(key: Key) -> ResultKey:
    """The results store's key of a stored month's ranking: the question (chain, month, every parameter of the
    ranking, the ranking engine and the file's format) and the build it ranks (its `built_at`, UTC)."""
    code, month, built_at, decay, window, max_nodes = key
    params: dict[str, object] = {
        "chain_code": code,
        "as_of_month": month,
        "decay_per_month": decay,
        "network_window_months": window,
        "betweenness_max_nodes": max_nodes,
        "pagerank_damping": repr(network.DAMPING),
        "engine": network.ENGINE,
        "format": FORMAT,
    }
    return stamped(RANKING, params, built_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ"))


def to_table(key: Key, ranked: Ranked) -> pa.Table:
    cs = ranked.centralities
    table = pa.Table.from_arrays(
        [
            pa.array([c.uscc for c in cs], pa.string()),
            pa.array([c.pagerank_supplier for c in cs], pa.float64()),
            pa.array([c.pagerank_buyer for c in cs], pa.float64()),
            pa.array([c.betweenness for c in cs], pa.float64()),
            pa.array([str(c.paid) for c in cs], pa.string()),
            pa.array([str(c.received) for c in cs], pa.string()),
        ],
        schema=SCHEMA,
    )
    meta = {"key": repr(store_key(key)), "nodes": str(ranked.nodes), "links": str(ranked.links)}
    return table.replace_schema_metadata(meta)


def from_table(key: Key, table: pa.Table) -> Ranked | None:
    """The ranking a file holds, or None when it is not the ranking of `key` (other metadata or columns)."""
    meta = table.schema.metadata or {}
    if not table.schema.equals(SCHEMA) or meta.get(b"key") != repr(store_key(key)).encode():
        return None
    try:
        nodes, links = int(meta[b"nodes"]), int(meta[b"links"])
        if table.num_rows != nodes:  # every node of the network is ranked
            return None
        uscc, supplier, buyer, between, paid, received = (table.column(n).to_pylist() for n in SCHEMA.names)
        centralities = tuple(
            Centrality(u, s, b, w, Decimal(p), Decimal(r))
            for u, s, b, w, p, r in zip(uscc, supplier, buyer, between, paid, received, strict=True)
        )
    except (KeyError, ValueError, TypeError, InvalidOperation):
        return None
    return Ranked(centralities, nodes, links)


def load(store: ResultCache, key: Key) -> Ranked | None:
    """The ranking of `key` kept in `store` by any process, or None (never kept, or not usable)."""
    table = store.get(store_key(key), in_memory=False)  # held here as `Ranked`, not twice
    return None if table is None else from_table(key, table)


def keep(store: ResultCache, key: Key, ranked: Ranked) -> None:
    """Keep the ranking of `key` in `store` for every worker and the next process (not in its memory)."""
    store.put(store_key(key), to_table(key, ranked), in_memory=False)
