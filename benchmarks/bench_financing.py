"""The regulator's indicator queries over 1 million work orders: target under 1 s per grouping on this machine.

Builds, in a temporary data dir, the lake dataset `financing_orders` with --orders synthetic orders of one year
(`jinyu.financing.synthetic`: 12 banks, 240 outlets, 3 planted slow and 2 planted refusing outlets), then
measures per grouping (bank, branch, outlet, manager, district, industry, chain, month) the whole service call
`lake_indicators` (named query on DuckDB + rates) against a baseline measured in the same run: one scan of the
same files (`count(*)`, `sum(amount_requested)`). Figures are medians over --repeat runs. With --spark, the same
calls on local Spark: timings, and whether every table equals DuckDB's (parity). Also checks that the planted
slow outlets top the overdue table and the refusing ones have the lowest approval rates.
Writes benchmarks/results/financing-indicators.json.

Usage: uv run python benchmarks/bench_financing.py [--orders 1000000] [--repeat 7] [--spark]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info

from jinyu.analytics import DuckDBEngine, Engine, Lake, Query, SparkEngine, register, stop_spark
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.financing.calendars import load_calendar
from jinyu.financing.service.indicators import GROUPINGS, lake_indicators
from jinyu.financing.service.lake_export import DATASET
from jinyu.financing.synthetic import Shape, planted, synthetic_orders

RESULTS = Path(__file__).resolve().parent / "results"
AS_OF = dt.date(2026, 12, 31)
REGULATOR = Principal(
    subject_id="bench", username="bench", org_id="reg", org_kind=OrgKind.REGULATOR, tenant_id="reg",
    org_path="/reg/", roles=frozenset({Role.REGULATOR_ANALYST}),
)  # fmt: skip
register(
    Query(
        name="bench_financing_scan",
        sql="SELECT count(*) AS n, CAST(sum(amount_requested) AS DECIMAL(38, 2)) AS total FROM financing_orders",
        params={},
        description="benchmark baseline: one scan of the work orders",
    )
)


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def _measure(engine: Engine, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    engine.run("bench_financing_scan")  # warm: views, file metadata, JIT
    baseline = _median_s(lambda: engine.run("bench_financing_scan"), repeat)
    per_group: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    for group in GROUPINGS:
        tables[group] = lake_indicators(engine, REGULATOR, group, AS_OF)
        seconds = _median_s(lambda g=group: lake_indicators(engine, REGULATOR, g, AS_OF), repeat)
        per_group[group] = {
            "median_s": seconds,
            "ratio_to_scan": round(seconds / baseline, 2),
            "rows": len(tables[group].rows),
        }
    return {"scan_median_s": baseline, "groupings": per_group}, tables


def _planted_check(tables: dict[str, Any]) -> dict[str, Any]:
    slow, refusing = planted(Shape())
    by_overdue = [r.key for r in tables["outlet"].rows]
    by_approval = [r.key for r in sorted(tables["outlet"].rows, key=lambda r: r.approval_rate or 0)]
    return {
        "slow_outlets": slow,
        "top3_overdue": by_overdue[:3],
        "slow_on_top": set(by_overdue[:3]) == set(slow),
        "refusing_outlets": refusing,
        "lowest2_approval": by_approval[:2],
        "refusing_lowest": set(by_approval[:2]) == set(refusing),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--spark", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        started = time.perf_counter()
        table = synthetic_orders(args.orders, load_calendar(Path(tmp)))
        Lake(root).append(
            DATASET, table, "bench", partition_by="dispatched_on", sort_by=["bank_id", "outlet_id"]
        )
        build_s = round(time.perf_counter() - started, 1)
        duck = DuckDBEngine(root)
        duck_figures, duck_tables = _measure(duck, args.repeat)
        result: dict[str, Any] = {
            "benchmark": "financing indicators (lake_indicators per grouping)",
            "machine": machine_info(),
            "orders": args.orders,
            "as_of": AS_OF.isoformat(),
            "build_s": build_s,
            "target_s": 1.0,
            "duckdb": duck_figures,
            "planted": _planted_check(duck_tables),
        }
        duck.close()
        if args.spark:
            spark = SparkEngine(root)
            spark_figures, spark_tables = _measure(spark, max(3, args.repeat // 2))
            spark_figures["identical_to_duckdb"] = {
                g: spark_tables[g].model_dump() == duck_tables[g].model_dump() for g in GROUPINGS
            }
            result["spark"] = spark_figures
            stop_spark()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "financing-indicators.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
