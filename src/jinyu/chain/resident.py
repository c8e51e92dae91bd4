"""Rankings of stored network months kept resident in the process.

A stored month (`jinyu chain network-build`) does not change until it is rebuilt, and a rebuild is a new
`built_at`. So the ranking of a chain's stored month — PageRank both ways, betweenness when small enough, money
paid and received — is computed once (reading the links, building the igraph graph: seconds at 2M links) and
then answered from memory, keyed by the build's time and the parameters. The key is read with
`stored.current_stamp`, which reads no links. Months computed per request (never built) are not kept: their
answer moves with every new load of transfers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from jinyu.chain.network import Centrality

MAX_MONTHS = 8  # chain-months held; one ranking of 200k enterprises is ~60 MB of Python objects


@dataclass(frozen=True)
class Ranked:
    centralities: tuple[Centrality, ...]  # every node, by pagerank_supplier descending then USCC
    nodes: int
    links: int


Key = tuple[str, str, dt.datetime, str, int, int]

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
