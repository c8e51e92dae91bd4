"""igraph centrality checked against an independent implementation (NetworkX)."""

from __future__ import annotations

import random
from decimal import Decimal

import networkx as nx
import numpy as np
import pytest

# The pure-Python power iteration: nx.pagerank needs SciPy, which the project does not install.
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

from jinyu.chain.network import centrality, rank_arrays


def _links(seed: int, nodes: int, edges: int) -> dict[tuple[str, str], Decimal]:
    rng = random.Random(seed)
    out: dict[tuple[str, str], Decimal] = {}
    while len(out) < edges:
        a, b = rng.sample(range(nodes), 2)
        out[(f"n{a:03d}", f"n{b:03d}")] = Decimal(rng.randrange(100, 10**6)) / 100
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_and_betweenness_agree_with_networkx(seed: int) -> None:
    links = _links(seed, 60, 240)
    ours = {c.uscc: c for c in centrality(links, betweenness_max_nodes=1000)}
    g = nx.DiGraph()
    for (a, b), w in links.items():
        g.add_edge(a, b, weight=float(w), distance=1.0 / float(w))
    pr = _pagerank_python(g, weight="weight", tol=1e-12, max_iter=1000)
    reverse = _pagerank_python(g.reverse(), weight="weight", tol=1e-12, max_iter=1000)
    between = nx.betweenness_centrality(g, weight="distance", normalized=False)
    for node, c in ours.items():
        assert c.pagerank_supplier == pytest.approx(pr[node], abs=1e-6)
        assert c.pagerank_buyer == pytest.approx(reverse[node], abs=1e-6)
        assert c.betweenness == pytest.approx(between[node], abs=1e-6)


def test_betweenness_is_skipped_above_the_limit() -> None:
    links = _links(4, 30, 60)
    assert all(c.betweenness is None for c in centrality(links, betweenness_max_nodes=29))
    assert centrality({}, 10) == []


def test_the_ranking_is_the_same_to_the_bit_every_time() -> None:
    """igraph's PRPACK with two OpenMP threads gave this graph's PageRanks different last bits from one run to
    the next (every node, ~1e-13 relative); ranked with one thread, as `rank_arrays` does, they are equal."""
    rng = np.random.default_rng(1)
    n, m = 5000, 56_000
    payer, payee, weight = rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m) * 1e6
    first = rank_arrays(n, payer, payee, weight, with_betweenness=False)
    assert all(rank_arrays(n, payer, payee, weight, with_betweenness=False) == first for _ in range(3))
