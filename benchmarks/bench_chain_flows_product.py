"""The product's monthly segment flows from the member-pair sums (`jinyu.chain.pairs`) against the statement.

Runs on a lake bench_chains.py --lake-dir keeps (20M transfers), read-only: a work lake (--work-dir) links its
transfers, accounts and chain_members and gets the derived `chain_member_pairs` written into it (the build is
timed: `pairs.build_month` for each month, as `network-build` runs it after a load). Then, alternating, --repeat
rounds each, on one warm DuckDB engine of the product:

- `statement`: `chain_segment_flows` over the transfers, 12 months (what requests ran before);
- `from_pairs`: what `service.flows` runs now: `pairs.flows_query` (the currency check: the builds' times
  against the lake's file times) and then `chain_segment_flows_from_pairs`;
- `served_cold`: `reads.monthly` with an empty `ResultCache` (a worker holding no month), now from the pairs;
- `check`: the currency check alone.

Every round's answers are checked equal (months, segment pairs, counts, amounts to the fen).

Usage: uv run python benchmarks/bench_chain_flows_product.py --lake-dir DIR --work-dir DIR [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, python_loop_ms, result_path

from jinyu.analytics import DuckDBEngine, Lake, ResultCache
from jinyu.chain import pairs, reads

RESULTS = Path(__file__).resolve().parent / "results"
LINKED = ("transfers", "accounts", "chain_members")


def _work_lake(source: Path, work: Path) -> Lake:
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if not (work / name).exists():
            (work / name).symlink_to(source.resolve() / name, target_is_directory=True)
    return Lake(work)


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    answer = fn()
    return time.perf_counter() - started, time.process_time() - cpu, answer


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake-dir", type=Path, required=True, help="a lake bench_chains.py --lake-dir kept")
    ap.add_argument("--work-dir", type=Path, required=True, help="where the derived pairs are written")
    ap.add_argument("--from-month", default="2024-01")
    ap.add_argument("--to-month", default="2024-12")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild-months", type=int, default=0, help="rebuild the window's last N months, timed")
    ap.add_argument("--out", type=result_path, default=RESULTS / "chain-flows-product-h-bd.json")
    args = ap.parse_args()
    result: dict[str, Any] = {
        "machine": machine_info(),
        "calibration_python_loop_ms_before": python_loop_ms(),
    }
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    lake = _work_lake(args.lake_dir, args.work_dir)
    engine = DuckDBEngine(lake.root)
    first, last = args.from_month, args.to_month
    months = reads._months(first, last)
    if pairs.stale_months(engine, lake, months):
        build: list[tuple[float, float]] = []
        for m in months:
            wall, cpu, _ = _timed(lambda m=m: pairs.build_month(engine, lake, m))
            build.append((wall, cpu))
        result["pairs_build"] = {
            "months": len(months),
            "wall_s": round(sum(w for w, _ in build), 2),
            "cpu_s": round(sum(c for _, c in build), 2),
            "per_month_wall_s_median": round(statistics.median(w for w, _ in build), 2),
        }
    rebuilt: list[tuple[float, float]] = []
    for m in months[len(months) - args.rebuild_months :]:  # a later build of a month supersedes the earlier
        wall, cpu, _ = _timed(lambda m=m: pairs.build_month(engine, lake, m))
        rebuilt.append((wall, cpu))
    if rebuilt:
        result["pairs_rebuild_per_month"] = {
            "months": len(rebuilt),
            "wall_s_median": round(statistics.median(w for w, _ in rebuilt), 2),
            "cpu_s_median": round(statistics.median(c for _, c in rebuilt), 2),
        }
    kept = lake.files(pairs.DATASET)
    result["pairs_rows"] = sum(pq.ParquetFile(f).metadata.num_rows for f in kept)
    result["pairs_bytes"] = sum(f.stat().st_size for f in kept)
    params = {"chain_code": "new_display", "from_month": first, "to_month": last, "segment_overrides": ""}
    paths: dict[str, Callable[[], Any]] = {
        "statement": lambda: engine.run(pairs.STATEMENT, **params),
        "from_pairs": lambda: engine.run(pairs.flows_query(engine, lake.root, first, last), **params),
        "served_cold": lambda: reads.monthly(engine, ResultCache(lake.root), reads.FLOWS, params),
        "check": lambda: pairs.flows_query(engine, lake.root, first, last),
    }
    assert paths["check"]() == pairs.FROM_PAIRS, "the pairs are not current"
    engine.run(pairs.STATEMENT, **params)  # views made and files' metadata read once, for every path
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for _ in range(args.repeat):
        answers = {}
        for name, fn in paths.items():
            wall, cpu, answers[name] = _timed(fn)
            times[name].append((wall, cpu))
        expected = _rows(answers["statement"])
        assert all(_rows(answers[n]) == expected for n in ("from_pairs", "served_cold")), "answers differ"
    engine.close()
    for name, runs in times.items():
        result[name] = {
            "wall_s": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s": round(statistics.median(c for _, c in runs), 3),
            "runs": [[round(w, 3), round(c, 3)] for w, c in runs],
        }
    result |= {
        "groups": len(expected),
        "equal": True,
        "statement_over_from_pairs": {
            k: round(result["statement"][k] / result["from_pairs"][k], 2) for k in ("wall_s", "cpu_s")
        },
        "calibration_python_loop_ms_after": python_loop_ms(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "parameters": {k: str(v) for k, v in vars(args).items()},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
