"""Synthetic-region generation and ingestion throughput.

Measures, in one run on this machine:
- `jinyu synth` wall time and peak RSS per scale (child process, so RSS is its own);
- ingestion of every dataset through the real path (validation, quarantine, lake write) in rows/s, against a
  baseline measured in the same run: pyarrow merely reading the same files (the floor any loader pays).
Figures are medians over --repeat runs. Writes benchmarks/results/ingest-<scale>.json.

Usage: uv run python benchmarks/bench_ingest.py [--scale small|medium|large] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info

from jinyu.analytics import Lake
from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM
from jinyu.core.runtime import unit_of_work
from jinyu.governance.contracts import LOAD_ORDER
from jinyu.ingest import service
from jinyu.migrate import upgrade

RESULTS = Path(__file__).resolve().parent / "results"


def run_synth(scale: str, out: Path) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jinyu.cli",
            "synth",
            "--scale",
            scale,
            "--seed",
            "7",
            "--out",
            str(out),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kib / 1024


def dataset_path(region: Path, name: str) -> Path | None:
    for p in (region / f"{name}.parquet", region / f"{name}.csv", region / name):
        if p.exists():
            return p
    return None


def read_baseline(path: Path) -> float:
    started = time.perf_counter()
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    for f in files:
        pq.read_table(f) if f.suffix == ".parquet" else pacsv.read_csv(f)
    return time.perf_counter() - started


def ingest_once(region: Path) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp))
        upgrade(settings)
        stores = service.Stores(
            Lake(settings.lake_dir),
            settings.data_dir / "quarantine",
            settings.key("pseudonym_key"),
            settings.key("quarantine_key"),
        )
        for name in LOAD_ORDER:
            path = dataset_path(region, name)
            if path is None:
                continue
            started = time.perf_counter()
            with unit_of_work(settings) as session:
                report = service.ingest(session, SYSTEM, name, path, stores)
            elapsed = time.perf_counter() - started
            figures[name] = {
                "rows": report.rows_total,
                "seconds": elapsed,
                "baseline_read_seconds": read_baseline(path),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        region = Path(tmp) / "region"
        synth_runs = []
        for i in range(args.repeat):
            out = region if i == 0 else Path(tmp) / f"r{i}"
            synth_runs.append(run_synth(args.scale, out))
        runs = [ingest_once(region) for _ in range(args.repeat)]
    result = summarise(args.scale, synth_runs, runs)
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"ingest-{args.scale}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {target}")


def summarise(
    scale: str, synth_runs: list[tuple[float, float]], runs: list[dict[str, dict[str, float]]]
) -> dict:  # type: ignore[type-arg]
    datasets = {}
    for name in runs[0]:
        seconds = statistics.median(r[name]["seconds"] for r in runs)
        base = statistics.median(r[name]["baseline_read_seconds"] for r in runs)
        rows = runs[0][name]["rows"]
        datasets[name] = {
            "rows": rows,
            "median_seconds": round(seconds, 4),
            "rows_per_second": round(rows / seconds),
            "baseline_read_median_seconds": round(base, 4),
            "ratio_vs_read": round(seconds / base, 1) if base else None,
        }
    total_rows = sum(d["rows"] for d in datasets.values())
    total_seconds = sum(d["median_seconds"] for d in datasets.values())
    return {
        "benchmark": "synth+ingest",
        "scale": scale,
        "repeat": len(runs),
        "machine": machine_info(),
        "synth": {
            "median_seconds": round(statistics.median(s for s, _ in synth_runs), 2),
            "peak_rss_mib": round(max(m for _, m in synth_runs), 1),
        },
        "ingest": {
            "total_rows": total_rows,
            "total_median_seconds": round(total_seconds, 2),
            "rows_per_second": round(total_rows / total_seconds),
            "datasets": datasets,
        },
    }


if __name__ == "__main__":
    main()
