"""Rankings of stored network months kept resident in the process.

A stored month (`jinyu chain network-build`) does not change until it is rebuilt, and a rebuild is a new
`built_at`. So the ranking of a chain's stored month — PageRank both ways, betweenness when small enough, money
paid and received — is computed once (reading the links, building the igraph graph: seconds at 2M links) and
then answered from memory, keyed by the build's time and the parameters. The key is read with
`stored.current_stamp`, which reads no links. A month computed from its links (never built) is kept only when
its links' answer is named by the lake files it was read from (`jinyu.chain.reads.answer_key`, the chain
page's shared answers): a new load of transfers gives another name, so the next request computes it again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from jinyu.chain.contagion import Exposed
from jinyu.chain.network import Centrality

MAX_MONTHS = 8  # chain-months held; one ranking of 200k enterprises is ~60 MB of Python objects
MAX_CASES = 64  # contagion cases held (a case lists the suppliers hit: kilobytes)


@dataclass(frozen=True)
class Ranked:
    centralities: tuple[Centrality, ...]  # every node, by pagerank_supplier descending then USCC
    nodes: int
    links: int


# (chain, month, the build's time or the computed links' answer key, decay, window, betweenness limit)
Key = tuple[str, str, dt.datetime | Hashable, str, int, int]

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
        _CASES.clear()


# Contagion cases (`service.exposures`) computed from links named by their lake files: (chain, failing
# member, month, the links' answer key) -> the suppliers hit. The same files give the same links, so the same
# case; a load of transfers names the links anew.
CaseKey = tuple[str, str, str, Hashable]
_CASES: OrderedDict[CaseKey, tuple[Exposed, ...]] = OrderedDict()


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
