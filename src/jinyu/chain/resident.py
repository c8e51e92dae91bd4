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
and betweenness as float64 (bit for bit), money as int64 fen with each node's count of links paid and received
on, nodes and links and the whole key in its metadata; a file whose metadata or columns are not those of the
key asked for, or that cannot be read, is not used (the caller ranks, as without it).

**Columnar** (issue 16): `Ranked` holds the whole ranking as columns — the USCCs as one Arrow array, numpy
float64 and int64 arrays for the rest — and no Python object per node: ranking 200k nodes made 200k
`Centrality` objects (and the garbage collector's passes over them), and reading a kept file turned each row
back into them, for a page that shows ten. Rows become `Centrality` only when asked for (`row`, `first`,
`centralities`), and money becomes Decimal there: the fen with two places, or `Decimal("0")` for a node with no
link on that side — exactly what summing the links' Decimals from `Decimal(0)` gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Container, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from jinyu.analytics import ResultCache
from jinyu.analytics.results import Key as ResultKey
from jinyu.analytics.results import stamped
from jinyu.chain import network
from jinyu.chain.contagion import Exposed
from jinyu.chain.network import Centrality

MAX_MONTHS = 8  # chain-months held; one ranking of 200k enterprises is ~15 MB of columns
_ZERO = Decimal(0)


@dataclass(frozen=True, eq=False)
class Ranked:
    """Every node by `pagerank_supplier` descending, then USCC, as columns (row i of each is one node)."""

    uscc: pa.StringArray
    pagerank_supplier: np.ndarray  # float64, on payer → payee
    pagerank_buyer: np.ndarray  # float64, on payee → payer
    betweenness: np.ndarray | None  # float64; None when not computed (above the limit)
    paid_fen: np.ndarray  # int64: weighted money paid out on the network, in fen
    received_fen: np.ndarray
    paying: np.ndarray  # int64: links the node pays on (0: `paid` is Decimal("0"), not "0.00")
    receiving: np.ndarray
    nodes: int
    links: int

    def __post_init__(self) -> None:
        for column in self._columns():  # held and shared between requests: nobody writes into it
            if column is not None:
                column.flags.writeable = False

    def __len__(self) -> int:
        return len(self.uscc)

    def rows(self, indices: Iterable[int]) -> list[Centrality]:
        """The nodes at `indices` (positions in the ranking) as `Centrality` rows, money as Decimal."""
        at = np.fromiter(indices, np.int64)
        usccs = self.uscc.take(pa.array(at)).to_pylist()
        supplier, buyer = self.pagerank_supplier[at].tolist(), self.pagerank_buyer[at].tolist()
        between = [None] * len(at) if self.betweenness is None else self.betweenness[at].tolist()
        paid = _decimals(self.paid_fen[at], self.paying[at])
        received = _decimals(self.received_fen[at], self.receiving[at])
        return [Centrality(*row) for row in zip(usccs, supplier, buyer, between, paid, received, strict=True)]

    def row(self, i: int) -> Centrality:
        return self.rows([i])[0]

    def first(self, top: int, among: Container[str]) -> list[Centrality]:
        """The first `top` nodes of the ranking that are `among` (a chain's members), as rows; the USCCs are
        read a slice at a time, so a page showing ten reads a few dozen, not 200k."""
        picked: list[int] = []
        start, size = 0, max(2 * top, 64)
        while len(picked) < top and start < len(self):
            names = self.uscc.slice(start, size).to_pylist()
            picked.extend(start + k for k, u in enumerate(names) if u in among)
            start, size = start + size, size * 2
        return self.rows(picked[:top])

    @property
    def centralities(self) -> tuple[Centrality, ...]:
        """Every node as a row, in order: for small networks and tests (200k rows cost ~0.5 s)."""
        return tuple(self.rows(range(len(self))))

    def __eq__(self, other: object) -> bool:
        """Equal to the bit: the same nodes in the same order, the same float64 bits and the same fen."""
        if not isinstance(other, Ranked):
            return NotImplemented
        if (self.nodes, self.links) != (other.nodes, other.links) or not self.uscc.equals(other.uscc):
            return False
        if (self.betweenness is None) != (other.betweenness is None):
            return False
        pairs = [
            (a, b)
            for a, b in zip(self._columns(), other._columns(), strict=True)
            if a is not None and b is not None
        ]
        return all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() for a, b in pairs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        digest = hashlib.sha256(b"".join(c.tobytes() for c in self._columns() if c is not None)).hexdigest()
        top = self.rows(range(min(3, len(self))))
        return f"Ranked(nodes={self.nodes}, links={self.links}, columns={digest[:16]}, top={top!r})"

    def _columns(self) -> tuple[np.ndarray | None, ...]:
        return (
            self.pagerank_supplier,
            self.pagerank_buyer,
            self.betweenness,
            self.paid_fen,
            self.received_fen,
            self.paying,
            self.receiving,
        )


def _decimals(fen: np.ndarray, links: np.ndarray) -> list[Decimal]:
    """Fen as the Decimal sum of two-place weights from Decimal(0) gives them: `0` with no link, else two places."""
    return [Decimal(f).scaleb(-2) if n else _ZERO for f, n in zip(fen.tolist(), links.tolist(), strict=True)]


Key = tuple[
    str, str, dt.datetime, str, int, int
]  # chain, month, built_at, decay, window, betweenness_max_nodes
RANKING = "chain_network_ranking"  # the question's name in the results store
# The file's columns (1: money as Decimal text, read back one object per row); another format is another question.
FORMAT = 2
SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("pagerank_supplier", pa.float64()),
        ("pagerank_buyer", pa.float64()),
        ("betweenness", pa.float64()),  # null when not computed
        ("paid_fen", pa.int64()),
        ("received_fen", pa.int64()),
        ("paying", pa.int64()),
        ("receiving", pa.int64()),
    ]
)
_NUMBERS = SCHEMA.names[1:]

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
    n = len(ranked)
    between = (
        pa.nulls(n, pa.float64())
        if ranked.betweenness is None
        else pa.array(ranked.betweenness, pa.float64())
    )
    table = pa.Table.from_arrays(
        [
            ranked.uscc,
            pa.array(ranked.pagerank_supplier, pa.float64()),
            pa.array(ranked.pagerank_buyer, pa.float64()),
            between,
            *(
                pa.array(c, pa.int64())
                for c in (ranked.paid_fen, ranked.received_fen, ranked.paying, ranked.receiving)
            ),
        ],
        schema=SCHEMA,
    )
    meta = {
        "key": repr(store_key(key)),
        "nodes": str(ranked.nodes),
        "links": str(ranked.links),
        "betweenness": "computed" if ranked.betweenness is not None else "none",
    }
    return table.replace_schema_metadata(meta)


def from_table(key: Key, table: pa.Table) -> Ranked | None:
    """The ranking a file holds, or None when it is not the ranking of `key` (other metadata or columns) or is
    not whole (a null where none belongs, link counts that do not add up to the links)."""
    meta = table.schema.metadata or {}
    if not table.schema.equals(SCHEMA) or meta.get(b"key") != repr(store_key(key)).encode():
        return None
    try:
        nodes, links = int(meta[b"nodes"]), int(meta[b"links"])
        computed = {b"computed": True, b"none": False}[meta[b"betweenness"]]
    except (KeyError, ValueError):
        return None
    if table.num_rows != nodes:  # every node of the network is ranked
        return None
    between = table.column("betweenness")
    if between.null_count != (0 if computed else nodes):
        return None
    if any(table.column(name).null_count for name in _NUMBERS if name != "betweenness"):
        return None
    # Copies, not views of the memory-mapped file: the ranking outlives the file's mapping.
    uscc = table.column("uscc").combine_chunks()
    if uscc.null_count:
        return None
    uscc = uscc.take(pa.array(np.arange(nodes)))
    supplier, buyer, paid, received, paying, receiving = (
        np.array(table.column(name).to_numpy(), copy=True)
        for name in ("pagerank_supplier", "pagerank_buyer", "paid_fen", "received_fen", "paying", "receiving")
    )
    counts_add_up = int(paying.sum()) == links and int(receiving.sum()) == links
    if not counts_add_up or min(paying.min(initial=0), receiving.min(initial=0)) < 0:
        return None
    return Ranked(
        uscc=uscc,
        pagerank_supplier=supplier,
        pagerank_buyer=buyer,
        betweenness=np.array(between.to_numpy(), copy=True) if computed else None,
        paid_fen=paid,
        received_fen=received,
        paying=paying,
        receiving=receiving,
        nodes=nodes,
        links=links,
    )


def load(store: ResultCache, key: Key) -> Ranked | None:
    """The ranking of `key` kept in `store` by any process, or None (never kept, or not usable)."""
    table = store.get(store_key(key), in_memory=False)  # held here as `Ranked`, not twice
    return None if table is None else from_table(key, table)


def keep(store: ResultCache, key: Key, ranked: Ranked) -> None:
    """Keep the ranking of `key` in `store` for every worker and the next process (not in its memory)."""
    store.put(store_key(key), to_table(key, ranked), in_memory=False)
