"""igraph centrality checked against an independent implementation (NetworkX)."""

from __future__ import annotations

import random
from decimal import Decimal

import igraph as ig
import networkx as nx
import numpy as np
import pytest

# The pure-Python power iteration: nx.pagerank needs SciPy, which the project does not install.
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python
from threadpoolctl import ThreadpoolController

from jinyu.chain.network import centrality, rank_arrays, sorted_links


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


def _plain_igraph(
    n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray
) -> tuple[list, list, list]:
    """igraph fed the links as given, in their order, with no sorting (one OpenMP thread, as the product)."""
    with ThreadpoolController().limit(limits=1, user_api="openmp"):
        g = ig.Graph(n=n, edges=list(zip(payer.tolist(), payee.tolist(), strict=True)), directed=True)
        w = weight.tolist()
        supplier = g.pagerank(weights=w, directed=True, damping=0.85, implementation="prpack")
        between = g.betweenness(directed=True, weights=[1.0 / x for x in w])
        buyer = ig.Graph(
            n=n, edges=list(zip(payee.tolist(), payer.tolist(), strict=True)), directed=True
        ).pagerank(weights=w, directed=True, damping=0.85, implementation="prpack")
    return supplier, buyer, between


@pytest.mark.parametrize("parallel", [False, True])
def test_sorting_the_links_changes_not_a_bit(parallel: bool) -> None:
    """`rank_arrays` sorts the links before igraph builds its graph (for speed): whatever order they come in,
    the ranks and betweenness equal, to the bit, igraph's on the links as given. With parallel links (same
    payer and payee twice) their order matters to the last bits, so the sort keeps it."""
    rng = np.random.default_rng(2)
    n = 400
    pairs = rng.integers(0, n, (6_000, 2))
    if not parallel:
        pairs = np.unique(pairs, axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    assert (len(np.unique(pairs, axis=0)) < len(pairs)) is parallel
    weight = rng.random(len(pairs)) * 1e6 + 1
    for seed in (3, 4):
        shuffle = np.random.default_rng(seed).permutation(len(pairs))
        payer, payee, w = pairs[shuffle, 0], pairs[shuffle, 1], weight[shuffle]
        assert rank_arrays(n, payer, payee, w, with_betweenness=True) == _plain_igraph(n, payer, payee, w)


@pytest.mark.parametrize(
    "n", [50, 3_000_000_000]
)  # ends and position packed in one int64; too many nodes: not
def test_sorted_links_is_a_stable_sort_by_both_ends(n: int) -> None:
    rng = np.random.default_rng(5)
    payer, payee = rng.integers(0, 50, 3_000), rng.integers(0, 50, 3_000)
    weight = np.arange(3_000, dtype=np.float64)  # the links' positions: shows the order parallel links keep
    order = np.lexsort((payee, payer))  # NumPy's lexsort is stable
    got = sorted_links(n, payer, payee, weight)
    for have, want in zip(got, (payer[order], payee[order], weight[order]), strict=True):
        assert np.array_equal(have, want)


def test_links_that_come_sorted_are_taken_as_they_are() -> None:
    """Sorted by (payer, payee), parallel links included, the links come back unchanged (no sort, so kept
    dense ids need none); one link out of order and they are sorted, by hand: (0, 2) before (1, 0)."""
    payer, payee = np.array([0, 0, 0, 1, 2], np.int32), np.array([1, 2, 2, 0, 1], np.int32)
    weight = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    got = sorted_links(3, payer, payee, weight)
    assert all(g is w for g, w in zip(got, (payer, payee, weight), strict=True))
    a, b, w = sorted_links(3, np.array([1, 0, 0]), np.array([0, 2, 2]), np.array([7.0, 8.0, 9.0]))
    assert (a.tolist(), b.tolist(), w.tolist()) == ([0, 0, 1], [2, 2, 0], [8.0, 9.0, 7.0])


def test_kept_ids_rank_as_the_names_do() -> None:
    """Links given as names (`centrality`'s entry, which numbers them as it meets them) and the same links given
    as dense ids in the names' order, sorted (as kept with the links): every node's ranks equal (to 1e-12:
    `centrality` numbers the nodes otherwise, which may move last bits)."""
    links = _links(9, 60, 400)
    names = sorted({x for pair in links for x in pair})
    ids = {name: i for i, name in enumerate(names)}
    kept = sorted((ids[a], ids[b], float(w)) for (a, b), w in links.items())
    payer, payee, weight = (np.array(col) for col in zip(*kept, strict=True))
    supplier, buyer, _ = rank_arrays(len(names), payer, payee, weight, with_betweenness=False)
    by_name = {c.uscc: c for c in centrality(links, betweenness_max_nodes=0)}
    for i, name in enumerate(names):
        assert abs(supplier[i] - by_name[name].pagerank_supplier) < 1e-12
        assert abs(buyer[i] - by_name[name].pagerank_buyer) < 1e-12
