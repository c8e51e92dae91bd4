"""The first network request after a monthly build: cold (the previous behaviour: read the stored links, build
the igraph graph, rank) against after the scheduled build's warm-up (`jinyu.chain.scheduler.warm`, run by each
`jinyu serve` worker after a change, off the request path). Alternating A/B rounds on the same lake; medians.

    uv run python benchmarks/bench_chain_first_request.py --enterprises 200000 --transfers 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chains_data
from bench_chain_network_stored import _enterprises
from machine import calibration, machine_info

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.chain import definitions, resident, scheduler, service, stored

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(fn: Any) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _same(a: Any, b: Any) -> bool:
    """The same nodes, money and betweenness, and PageRanks equal to 1e-9 relative: the warm-up reads the links
    through its own DuckDB connection, whose row order (so igraph's edge order, so the last bits of the sums)
    may differ from the request's."""
    x = {c.uscc: c for c in a.centralities}
    y = {c.uscc: c for c in b.centralities}
    return (
        (a.nodes, a.links) == (b.nodes, b.links)
        and x.keys() == y.keys()
        and all(
            x[u].paid == y[u].paid
            and x[u].received == y[u].received
            and math.isclose(x[u].pagerank_supplier, y[u].pagerank_supplier, rel_tol=1e-9, abs_tol=1e-15)
            and math.isclose(x[u].pagerank_buyer, y[u].pagerank_buyer, rel_tol=1e-9, abs_tol=1e-15)
            for u in x
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=20_000)
    ap.add_argument("--transfers", type=int, default=300_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS / "chain-first-request.json")
    args = ap.parse_args()
    p = definitions.load().parameters
    result: dict[str, Any] = {"machine": machine_info(), "calibration": calibration()}
    result["parameters"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    rounds: dict[str, list[tuple[float, float]]] = {"cold": [], "warm_up": [], "after_warm_up": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        months = chains_data.build_lake(root, args.enterprises, args.transfers, args.months, args.seed)
        _enterprises(root, args.enterprises)
        as_of = months[-1]
        engine = DuckDBEngine(root)
        try:
            links = stored.build_month(
                engine, Lake(root), as_of, [c.code for c in definitions.load().chains], p
            )
            answers = []
            for _ in range(args.repeat):  # A/B alternated: the previous first request, then the warmed one
                resident.clear()
                wall, cpu, cold = _timed(lambda: service.ranked_network(engine, "new_display", as_of, p))
                rounds["cold"].append((wall, cpu))
                resident.clear()
                wall, cpu, warmed = _timed(lambda: scheduler.warm(root))
                assert warmed["new_display"] == as_of
                rounds["warm_up"].append((wall, cpu))
                wall, cpu, held = _timed(lambda: service.ranked_network(engine, "new_display", as_of, p))
                rounds["after_warm_up"].append((wall, cpu))
                answers.append(_same(held, cold))
        finally:
            engine.close()
    assert all(answers), "the warmed ranking differs from the cold one"
    medians = {
        k: {
            "wall_s": round(statistics.median(w for w, _ in v), 3),
            "cpu_s": round(statistics.median(c for _, c in v), 3),
        }
        for k, v in rounds.items()
    }
    result["network"] = {"as_of_month": as_of, "links": links, **medians, "equal": True}
    result["ratio_first_request_wall"] = round(
        medians["cold"]["wall_s"] / medians["after_warm_up"]["wall_s"], 1
    )
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["network"] | {"ratio": result["ratio_first_request_wall"]}, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
