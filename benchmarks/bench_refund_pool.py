"""Issue 19: what the refund step and pro rata's balance pool cost a one-loan return flow (lake path).

Small (or given) region, the region's lake as ingestion leaves it (`tracing_support.write_lake`); per loan,
interleaved in one process: today's pool without the refund step (the baseline: the code before), today's pool
with it, and the balance pool with it. Medians and p95 of wall milliseconds, ratios against the baseline.

    python benchmarks/bench_refund_pool.py --region-dir /tmp/region-small --loans 60
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.machine import machine_info
from benchmarks.tracing_support import write_lake
from jinyu.analytics import DuckDBEngine, Lake
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.schemas import TraceParams
from jinyu.risk.tracing.service import refund
from jinyu.synth import generate

RESULTS = Path(__file__).parent / "results" / "tracing-refund-pool.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region-dir", type=Path, default=None, help="a generated region (else: small, seed 7)")
    ap.add_argument("--loans", type=int, default=60)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-refund-"))
    region = args.region_dir or work / "region"
    if args.region_dir is None:
        generate(region, "small", 7, progress=False)
    write_lake(region, work / "lake")
    engine = DuckDBEngine(work / "lake")
    stores = service.Stores(engine, work / "lake", b"k" * 32)
    loans = pq.read_table(Lake(work / "lake").files("loans")).to_pylist()[: args.loans]
    real_apply = refund.apply

    def skip(_e: Any, t: rules.Trace, _w: Any, _m: Any) -> tuple[rules.Trace, list[Any]]:
        return t, []

    def run(loan: dict[str, Any], pool: str, with_refunds: bool) -> float:
        refund.apply = real_apply if with_refunds else skip  # type: ignore[assignment]
        row = queries.loan(engine, loan["loan_id"], loan["bank_code"])
        assert row is not None
        started = time.perf_counter()
        service.trace_loan(stores, row, TraceParams(pool=pool), "return_flow", loan["bank_code"])  # type: ignore[arg-type]
        return (time.perf_counter() - started) * 1000

    for loan in loans[:5]:  # warm the engine's views
        run(loan, "today", True)
    cases = {"today_no_refund_step": ("today", False), "today_refund_step": ("today", True),
             "balance_pool_refund_step": ("balance", True)}  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in cases}
    load_before = os.getloadavg()
    for loan in loans:
        for name, (pool, with_refunds) in cases.items():
            times[name].append(run(loan, pool, with_refunds))
    refund.apply = real_apply
    base = statistics.median(times["today_no_refund_step"])
    out = {
        "command": "python benchmarks/bench_refund_pool.py"
        + (f" --region-dir {args.region_dir}" if args.region_dir else ""),
        "loans": len(loans),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "machine": machine_info(),
        "results_ms": {
            k: {
                "median": round(statistics.median(v), 1),
                "p95": round(sorted(v)[int(len(v) * 0.95) - 1], 1),
                "ratio_median": round(statistics.median(v) / base, 2),
            }
            for k, v in times.items()
        },
    }
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["results_ms"], indent=2))
    engine.close()


def _summary(values: list[float], base: float) -> dict[str, float]:
    median = statistics.median(values)
    p95 = sorted(values)[int(len(values) * 0.95) - 1]
    return {"median": round(median, 1), "p95": round(p95, 1), "ratio_median": round(median / base, 2)}


if __name__ == "__main__":
    main()
