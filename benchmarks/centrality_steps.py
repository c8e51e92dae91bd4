"""`network.rank_arrays` at full size taken apart: each step timed on its own, against main's build before it.

Main built the igraph graph from the links in the order the SQL gave them, as one (E, 2) array
(`add_edges`); `rank_arrays` now sorts them by (payer, payee) and hands igraph two lists of Python ints.
The steps repeat the product's calls one by one (one OpenMP thread, as the product), so the sum is close to
`rank_arrays`' own time, which the caller measures beside this. Used by bench_chains.py --only centrality.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import igraph as ig
import numpy as np
from threadpoolctl import ThreadpoolController

from jinyu.chain.network import DAMPING, sorted_links

_THREADS = ThreadpoolController()


def _time(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _pagerank(graph: ig.Graph, weights: list[float]) -> list[float]:
    return graph.pagerank(weights=weights, directed=True, damping=DAMPING, implementation="prpack")


def _one_round(
    n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray
) -> dict[str, tuple[float, float]]:
    steps: dict[str, tuple[float, float]] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        wall, cpu, result = _time(fn)
        steps[name] = (wall, cpu)
        return result

    with _THREADS.limit(limits=1, user_api="openmp"):
        edges = step(
            "main_edge_array", lambda: np.ascontiguousarray(np.column_stack([payer, payee]), np.int64)
        )

        def main_build() -> ig.Graph:
            graph = ig.Graph(n=n, directed=True)
            graph.add_edges(edges)
            return graph

        step("main_build_unsorted", main_build)
        a, b, w = step("sort_by_payer_payee", lambda: sorted_links(n, payer, payee, weight))

        def build_sorted() -> ig.Graph:  # as rank_arrays hands them over
            return ig.Graph(n=n, edges=zip(a.tolist(), b.tolist(), strict=True), directed=True)

        graph = step("build_sorted_from_int_lists", build_sorted)
        weights = step("weights_to_list", lambda: w.tolist())
        supplier = step("pagerank_supplier", lambda: _pagerank(graph, weights))
        step("reverse_edges", graph.reverse_edges)
        buyer = step("pagerank_buyer", lambda: _pagerank(graph, weights))
        step("ranks_to_numpy", lambda: (np.asarray(supplier), np.asarray(buyer)))
    return steps


def breakdown(
    n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray, repeat: int
) -> dict[str, Any]:
    """Median wall and CPU seconds of each step over `repeat` rounds."""
    rounds = [_one_round(n, payer, payee, weight) for _ in range(repeat)]
    out: dict[str, Any] = {
        name: {
            "wall_s": round(statistics.median(r[name][0] for r in rounds), 3),
            "cpu_s": round(statistics.median(r[name][1] for r in rounds), 3),
        }
        for name in rounds[0]
    }
    now = ("sort_by_payer_payee", "build_sorted_from_int_lists", "weights_to_list", "pagerank_supplier")
    now += ("reverse_edges", "pagerank_buyer")
    out["sum_of_rank_arrays_steps_cpu_s"] = round(sum(out[k]["cpu_s"] for k in now), 3)
    return out
