"""The first network request after a monthly build at a worker that did not build it (another `jinyu serve`
worker, or a restarted process): as on main (read the stored links, build the igraph graph, rank) against
reading the ranking the build kept beside the lake (`jinyu.chain.resident`, the results store). Also that
worker's warm-up (`jinyu.chain.scheduler.warm`) from the kept ranking, the request after it, and what keeping
costs the build (ranking + writing the file before the append, `scheduler.rank_before_append`).
Alternating A/B rounds on the same lake; medians; the kept ranking must equal the cold one exactly.

    uv run python benchmarks/bench_chain_first_request.py --enterprises 200000 --transfers 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chains_data
from bench_chain_network_stored import _enterprises
from machine import calibration, machine_info, result_path

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.analytics.results import store_dir
from jinyu.chain import definitions, resident, scheduler, service, stored

RESULTS = Path(__file__).resolve().parent / "results"
CHAIN = "new_display"


def _timed(fn: Any) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=20_000, help="enterprises in the lake (issue: 200000)")
    ap.add_argument("--transfers", type=int, default=300_000, help="transfers in the lake (issue: 2000000)")
    ap.add_argument("--months", type=int, default=6, help="months of transfers; the last is the one built")
    ap.add_argument("--repeat", type=int, default=3, help="alternating rounds (medians are reported)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=result_path, default=RESULTS / "chain-first-request.json")
    args = ap.parse_args()
    p = definitions.load().parameters
    result: dict[str, Any] = {"machine": machine_info(), "calibration": calibration()}
    result["parameters"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    rounds: dict[str, list[tuple[float, float]]] = {
        "cold_as_main": [],
        "first_request_kept": [],
        "warm_up_kept": [],
        "after_warm_up": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        months = chains_data.build_lake(root, args.enterprises, args.transfers, args.months, args.seed)
        _enterprises(root, args.enterprises)
        as_of = months[-1]
        engine = DuckDBEngine(root)
        kept = store_dir(root) / resident.RANKING
        try:
            hook = scheduler.rank_before_append(root, as_of, hold=False)
            keep_cost: list[tuple[float, float]] = []

            def timed_hook(month: str, links: Any, built_at: Any) -> None:
                wall, cpu, _ = _timed(lambda: hook(month, links, built_at))
                keep_cost.append((wall, cpu))

            chains = [c.code for c in definitions.load().chains]
            links = stored.build_month(engine, Lake(root), as_of, chains, p, timed_hook)
            assert len(list(kept.glob("*.arrow"))) == len(chains)
            answers = []
            for _ in range(args.repeat):  # A/B alternated
                # A: main's first request at a worker that did not build (its code path on a miss: the stamp,
                # the stored links, the graph, the ranking), the kept file out of the way.
                resident.clear()
                files = {f: f.read_bytes() for f in kept.glob("*.arrow")}
                shutil.rmtree(kept)

                def as_main() -> resident.Ranked:
                    stamp = stored.current_stamp(engine, CHAIN, as_of, p)
                    assert stamp is not None
                    return service.rank_links(service.network_links(engine, CHAIN, as_of, p), p)

                wall, cpu, cold = _timed(as_main)
                rounds["cold_as_main"].append((wall, cpu))
                kept.mkdir(parents=True)
                for f, data in files.items():  # the build's files back, as it wrote them
                    f.write_bytes(data)
                # B: the same worker (or a restarted one) with the build's ranking kept beside the lake.
                resident.clear()
                shared_results(root).clear(keep_store=True)
                wall, cpu, first = _timed(lambda: service.ranked_network(engine, CHAIN, as_of, p))
                rounds["first_request_kept"].append((wall, cpu))
                resident.clear()
                wall, cpu, warmed = _timed(lambda: scheduler.warm(root))
                assert warmed[CHAIN] == as_of
                rounds["warm_up_kept"].append((wall, cpu))
                wall, cpu, held = _timed(lambda: service.ranked_network(engine, CHAIN, as_of, p))
                rounds["after_warm_up"].append((wall, cpu))
                answers.append(first == cold and held == cold and repr(first) == repr(cold))
        finally:
            engine.close()
    assert all(answers), "the kept ranking differs from the cold one"

    def med(v: list[tuple[float, float]]) -> dict[str, float]:
        return {
            "wall_s": round(statistics.median(w for w, _ in v), 3),
            "cpu_s": round(statistics.median(c for _, c in v), 3),
        }

    medians = {k: med(v) for k, v in rounds.items()}
    result["network"] = {
        "as_of_month": as_of,
        "links": links,
        "nodes": cold.nodes,
        **medians,
        "keep_at_build_every_chain": med(keep_cost),
        "equal_exactly": True,
    }
    result["ratio_first_request_wall"] = round(
        medians["cold_as_main"]["wall_s"] / medians["first_request_kept"]["wall_s"], 1
    )
    result["ratio_first_request_cpu"] = round(
        medians["cold_as_main"]["cpu_s"] / medians["first_request_kept"]["cpu_s"], 1
    )
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["calibration_after"] = calibration()
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        json.dumps(
            result["network"]
            | {
                "ratio_wall": result["ratio_first_request_wall"],
                "ratio_cpu": result["ratio_first_request_cpu"],
            },
            indent=2,
        )
    )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
