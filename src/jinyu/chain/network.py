"""Core enterprises by network position: weighted PageRank and betweenness with python-igraph.

Edges run payer → payee weighted by decayed payments (`rules.decayed_links`). PageRank on that direction
ranks enterprises that many (heavily paying) enterprises pay, i.e. key suppliers; on the reversed graph it
ranks key buyers. Betweenness (shortest paths, distance = 1 / weight) is exact and O(V·E), so above
`betweenness_max_nodes` it is skipped (reported as null) rather than sampled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import igraph as ig


@dataclass(frozen=True)
class Centrality:
    uscc: str
    pagerank_supplier: float  # on payer → payee
    pagerank_buyer: float  # on payee → payer
    betweenness: float | None
    paid: Decimal  # weighted money paid out on the network
    received: Decimal


def centrality(links: Mapping[tuple[str, str], Decimal], betweenness_max_nodes: int) -> list[Centrality]:
    names = sorted({u for pair in links for u in pair})
    if not names:
        return []
    index = {n: i for i, n in enumerate(names)}
    edges = [(index[a], index[b]) for a, b in links]
    weights = [float(w) for w in links.values()]
    graph = ig.Graph(n=len(names), edges=edges, directed=True)
    supplier = graph.pagerank(weights=weights, directed=True)
    reverse = ig.Graph(n=len(names), edges=[(b, a) for a, b in edges], directed=True)
    buyer = reverse.pagerank(weights=weights, directed=True)
    between: list[float] | None = None
    if len(names) <= betweenness_max_nodes:
        between = graph.betweenness(directed=True, weights=[1.0 / w if w > 0 else 1e12 for w in weights])
    paid = dict.fromkeys(names, Decimal(0))
    received = dict.fromkeys(names, Decimal(0))
    for (a, b), w in links.items():
        paid[a] += w
        received[b] += w
    return [
        Centrality(
            n, supplier[i], buyer[i], between[i] if between is not None else None, paid[n], received[n]
        )
        for i, n in enumerate(names)
    ]
