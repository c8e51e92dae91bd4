"""A cold ranking of a stored month taken apart (issue 16), after the ranking became columnar.

1. `--part igraph`: the ways python-igraph takes 2M links given as int arrays (sorted by (payer, payee), as a
   stored build keeps them), each timed on its own: two lists of Python ints zipped (what `network.rank_arrays`
   did before h-bl), two memoryviews of the int64 arrays zipped (what it does now; same edge list), the lists
   with the garbage collector paused, a list of the pairs, `add_edges` on an empty graph, the (E, 2) array
   itself (python-igraph turns it into a memoryview and then into 2M small lists), the same with the collector
   paused, and `Graph.Read_Edgelist` from a text file written by Arrow.
2. `--part read`: one chain's stored month of --nodes / --links written once into a lake under --lake-dir (the
   generated links of `bench_chain_stored_ids`), then the read timed: the stamp (`chain_network_stamp`), the
   statement `chain_network_stored_ids` (the stamped build, file order: whether its rows came sorted is
   recorded), the statement as main `1efd68c` had it (the latest build found by a join, ORDER BY the ids; same
   rows), the arrays (`id_links.from_table`), the statement without the USCC columns, the build's kept arrays
   (`kept_links`: kept once, then read memory-mapped) and the columnar ranking (`id_links.ranked`).

    uv run python benchmarks/chain_ranking_parts.py --part igraph --part read --lake-dir /tmp/parts-lake \
        --out benchmarks/results/chain-ranking-parts.json
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_chain_stored_ids as stored_bench
from machine import calibration, machine_info

from jinyu.analytics import DuckDBEngine, Lake, Month, shared_results
from jinyu.chain import definitions, id_links, kept_links, stored

# `chain_network_stored_ids` before the stamp was a parameter (main 1efd68c): the latest build by a join, sorted.
BEFORE = """
WITH built AS (
    SELECT payer, payee, weight, payer_id, payee_id, built_at
    FROM chain_network_links
    WHERE month = $as_of_month AND chain_code = $chain_code
),
latest AS (
    SELECT max(built_at) AS built_at FROM built
)
SELECT b.payer, b.payee, b.weight, b.payer_id, b.payee_id, b.built_at
FROM built AS b JOIN latest AS l ON b.built_at = l.built_at
WHERE b.payer IS NOT NULL
ORDER BY b.payer_id, b.payee_id
"""

# The stamped statement's numbers only: what reading the USCC strings costs within it.
WITHOUT_NAMES = """
SELECT weight, payer_id, payee_id
FROM chain_network_links
WHERE month = $as_of_month AND chain_code = $chain_code AND built_at = $built_at AND payer IS NOT NULL
"""


def _timed(name: str, fn: Callable[[], Any], repeat: int, out: dict[str, Any]) -> Any:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
    out[name] = {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3)}
    print(f"{name:48s} {out[name]['wall_s']:7.3f} s wall / {out[name]['cpu_s']:6.3f} CPU", flush=True)
    return result


def _paused(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


def igraph_ways(nodes: int, links: int, repeat: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ends = np.unique(rng.integers(0, nodes, links) * nodes + rng.integers(0, nodes, links))
    a, b = ends // nodes, ends % nodes
    edges = np.column_stack([a, b])
    out: dict[str, Any] = {"links": len(a), "nodes": nodes}

    def zipped() -> ig.Graph:
        return ig.Graph(n=nodes, edges=zip(a.tolist(), b.tolist(), strict=True), directed=True)

    def viewed() -> ig.Graph:  # what `network.rank_arrays` does now: no list, one int at a time
        return ig.Graph(n=nodes, edges=zip(memoryview(a), memoryview(b), strict=True), directed=True)

    def added() -> ig.Graph:
        graph = ig.Graph(n=nodes, directed=True)
        graph.add_edges(zip(a.tolist(), b.tolist(), strict=True))
        return graph

    with tempfile.TemporaryDirectory(prefix="jinyu-parts-") as tmp:
        path = str(Path(tmp) / "edges.txt")

        def from_text() -> ig.Graph:
            options = pcsv.WriteOptions(include_header=False, delimiter=" ")
            pcsv.write_csv(pa.table({"a": a, "b": b}), path, options)
            return ig.Graph.Read_Edgelist(path, directed=True)

        _timed("two int lists only (tolist x2)", lambda: (a.tolist(), b.tolist()), repeat, out)
        _timed("zip of two int lists (the product before h-bl)", zipped, repeat, out)
        _timed("zip of two memoryviews (the product)", viewed, repeat, out)
        assert viewed().get_edgelist() == zipped().get_edgelist()
        _timed("zip of two int lists, gc paused", _paused(zipped), repeat, out)
        _timed(
            "list of pairs",
            lambda: ig.Graph(n=nodes, edges=list(zip(a.tolist(), b.tolist(), strict=True)), directed=True),
            repeat,
            out,
        )
        _timed("add_edges of the zip", added, repeat, out)
        _timed(
            "(E, 2) array (memoryview)", lambda: ig.Graph(n=nodes, edges=edges, directed=True), repeat, out
        )
        _timed(
            "(E, 2) array, gc paused",
            _paused(lambda: ig.Graph(n=nodes, edges=edges, directed=True)),
            repeat,
            out,
        )
        _timed("Read_Edgelist (Arrow CSV written + read)", from_text, repeat, out)
    return out


def read_parts(lake_dir: Path, nodes: int, links: int, repeat: int, seed: int) -> dict[str, Any]:
    if not (lake_dir / stored.DATASET).exists():
        table = stored_bench._build_table(nodes, links, seed)
        Lake(lake_dir).append(
            stored.DATASET, table, "chainnet-bench", partition_by="as_of_month", sort_by=["chain_code"]
        )
    p = definitions.load().parameters
    engine = DuckDBEngine(lake_dir)
    params = {"chain_code": stored_bench.CHAIN, "as_of_month": stored_bench.MONTH}
    out: dict[str, Any] = {}
    try:
        stamp = _timed(
            "stamp (chain_network_stamp)",
            lambda: stored.current_stamp(engine, *params.values(), p),
            repeat,
            out,
        )
        assert stamp is not None
        table = _timed(
            "statement chain_network_stored_ids",
            lambda: stored.stored_id_links(engine, lake_dir, *params.values(), stamp),
            repeat,
            out,
        )
        assert table is not None
        key = (
            table.column("payer_id").to_numpy().astype(np.int64) * (nodes + 1)
            + table.column("payee_id").to_numpy()
        )
        out["statement_rows_came_sorted"] = bool(np.all(key[1:] >= key[:-1]))
        before = dataclasses.replace(
            stored.NETWORK_STORED_IDS, sql=BEFORE, params={"chain_code": str, "as_of_month": Month}
        )
        sorted_before = _timed(
            "the statement as main had it (join, ORDER BY)",
            lambda: engine.run_query(before, **params),
            repeat,
            out,
        )
        out["same_rows_as_before"] = sorted_before.equals(table)
        found = _timed("id_links.from_table", lambda: id_links.from_table(table), repeat, out)
        assert found is not None
        numbers = dataclasses.replace(stored.NETWORK_STORED_IDS, sql=WITHOUT_NAMES)
        _timed(
            "the statement without the USCC columns",
            lambda: engine.run_query(numbers, **params, built_at=stamp),
            repeat,
            out,
        )
        # The build's kept arrays (h-bl): kept once, then read as a cold ranking reads them.
        store = shared_results(lake_dir)
        _timed(
            "kept_links.keep (once per build)",
            lambda: kept_links.keep(store, *params.values(), stamp, found),
            1,
            out,
        )
        kept = _timed("kept_links.load", lambda: kept_links.load(store, *params.values(), stamp), repeat, out)
        assert kept is not None and kept.names.equals(found.names) and np.array_equal(kept.fen, found.fen)
        ranked = _timed(
            "id_links.ranked (rank_arrays + columns)",
            lambda: id_links.ranked(found, p.betweenness_max_nodes),
            repeat,
            out,
        )
        out["links"], out["nodes"] = ranked.links, ranked.nodes
    finally:
        engine.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", action="append", choices=["igraph", "read"], required=True)
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--links", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--lake-dir", type=Path, help="where the read part's lake is written (kept, reused)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine_info(), "calibration_before": calibration()}
    result["parameters"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    if "igraph" in args.part:
        result["igraph"] = igraph_ways(args.nodes, args.links, args.repeat, args.seed)
    if "read" in args.part:
        if args.lake_dir is None:
            ap.error("--part read needs --lake-dir")
        result["read"] = read_parts(args.lake_dir, args.nodes, args.links, args.repeat, args.seed)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["calibration_after"] = calibration()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
