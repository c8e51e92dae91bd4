"""Pseudonym key rotation on a synthetic region: what `jinyu keys rotate` costs and that joins survive it.

Measures, in one run on this machine, on a region generated and ingested through the real path:
- the dry run (its wall time and its estimate) and each real rotation's wall time (v1→v2, v2→v3, ...),
  the median over --repeat rotations;
- a baseline in the same run: reading and rewriting the same token-holding files unchanged with pyarrow
  (the I/O floor any rewrite pays), so the ratio shows what tokenization adds;
- the cost of a fresh token at version 1 and at the last version (ingest and per-request paths pay it);
- a check: a join on person tokens (accounts ⋈ enterprises' legal representatives) has the same row count
  before and after every rotation.
Writes benchmarks/results/keys-<scale>.json.

Usage: uv run python benchmarks/bench_keys.py [--scale small|medium|large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import dataset_path, run_synth
from machine import machine_info

from jinyu.analytics import Lake
from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM
from jinyu.core.privacy import pseudonymize
from jinyu.core.runtime import unit_of_work
from jinyu.governance.contracts import LOAD_ORDER
from jinyu.governance.keys import lakefiles, service
from jinyu.ingest import service as ingest
from jinyu.migrate import upgrade
from jinyu.models import metadata

RESULTS = Path(__file__).resolve().parent / "results"


def load_region(region: Path, data_dir: Path) -> None:
    settings = load_settings(data_dir=data_dir)
    upgrade(settings)
    stores = ingest.Stores(
        Lake(settings.lake_dir),
        data_dir / "quarantine",
        settings.pseudonym_keys(),
        settings.key("quarantine_key"),
    )
    for name in LOAD_ORDER:
        path = dataset_path(region, name)
        if path is not None:
            with unit_of_work(settings) as session:
                ingest.ingest(session, SYSTEM, name, path, stores)


def joined_rows(lake: Path) -> int:
    sql = f"""select count(*) from read_parquet('{lake}/accounts/**/*.parquet') a
              join read_parquet('{lake}/enterprises/**/*.parquet') e on a.owner_id = e.legal_rep_id"""
    with duckdb.connect() as con:
        [(count,)] = con.sql(sql).fetchall()
    return int(count)


def rewrite_baseline(lake: Path, out: Path) -> float:
    """Read and write every token-holding file unchanged (same compression and row groups)."""
    started = time.perf_counter()
    for dataset in lakefiles.token_columns():
        for i, path in enumerate(sorted((lake / dataset).rglob("*.parquet"))):
            pq.write_table(pq.read_table(path), out / f"{dataset}-{i}.parquet", compression="zstd",
                           row_group_size=lakefiles.ROW_GROUP_ROWS)  # fmt: skip
    return time.perf_counter() - started


def token_micros(keys: object, n: int = 20_000) -> float:
    started = time.perf_counter()
    for i in range(n):
        pseudonymize(keys, f"50010119900101{i:04d}", "person")  # type: ignore[arg-type]
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_synth(args.scale, root / "region")
        load_region(root / "region", root / "data")
        settings = load_settings(data_dir=root / "data")
        stores = service.Stores(settings.lake_dir, settings.keys_dir, settings.pseudonym_keys, metadata)
        joins_before = joined_rows(settings.lake_dir)
        v1_micros = token_micros(settings.pseudonym_keys())
        started = time.perf_counter()
        with unit_of_work(settings) as session:
            plan = service.plan(session, SYSTEM, stores)
        dry_seconds = time.perf_counter() - started
        rotations, baselines, joins = [], [], []
        for i in range(args.repeat):
            (root / f"copy{i}").mkdir()
            baselines.append(rewrite_baseline(settings.lake_dir, root / f"copy{i}"))
            started = time.perf_counter()
            with unit_of_work(settings) as session:
                service.rotate(session, SYSTEM, stores)
            service.activate(stores)
            rotations.append(time.perf_counter() - started)
            joins.append(joined_rows(settings.lake_dir))
        last_micros = token_micros(settings.pseudonym_keys())
    rotation, baseline = statistics.median(rotations), statistics.median(baselines)
    result = {
        "benchmark": "keys-rotate",
        "scale": args.scale,
        "repeat": args.repeat,
        "machine": machine_info(),
        "lake": {"token_files": plan.lake_files, "rows": plan.lake_rows, "bytes": plan.lake_bytes},
        "store_rows": plan.store_rows,
        "dry_run": {"seconds": round(dry_seconds, 2), "estimated_seconds": plan.estimated_seconds},
        "rotate": {
            "median_seconds": round(rotation, 2),
            "runs_seconds": [round(r, 2) for r in rotations],
            "rows_per_second": round(plan.lake_rows / rotation),
        },
        "baseline_rewrite_unchanged": {"median_seconds": round(baseline, 2)},
        "ratio_vs_baseline": round(rotation / baseline, 2),
        "fresh_token_micros": {"v1": round(v1_micros, 2), f"v{1 + args.repeat}": round(last_micros, 2)},
        "token_join_rows": {"before": joins_before, "after_each_rotation": joins},
    }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"keys-{args.scale}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
