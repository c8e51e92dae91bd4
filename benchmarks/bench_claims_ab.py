"""A/B of instant settlement in one sitting: a baseline commit and the working tree, alternated.

Why: this machine's speed moves with whatever else runs on it (2 cores shared), so a figure is only compared
with one measured minutes apart. The baseline's `src/` is exported (`git archive`) to a temporary directory with
this tree's `benchmarks/` beside it, and each run is `bench_claims.py` from there with that `src/` first on
PYTHONPATH (the same load, calibration and checks; the baseline's own product sample). Runs alternate
baseline(s), current, baseline(s), current...; the summary gives per phase the median of each side and their ratio
(current / baseline) for CPU per settlement, row writes and commits per settlement, throughput and latency.

Usage: uv run python benchmarks/bench_claims_ab.py [--baseline 19daf9d [--baseline main]] [--pairs 2]
       [--out claims-settle-ab-issue20.json] [-- bench_claims.py options: --seconds 20 --persons 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PHASES = ("capacity_closed_loop", "at_target_rate_open_loop")
FIGURES = {  # name -> path inside a phase
    "cpu_ms_total": ("cpu_ms_per_settlement", "total"),
    "cpu_ms_server": ("cpu_ms_per_settlement", "server"),
    "cpu_ms_postgres": ("cpu_ms_per_settlement", "postgres"),
    "cpu_ms_client": ("cpu_ms_per_settlement", "client"),
    "row_writes": ("database_per_settlement", "row_writes"),
    "commits": ("database_per_settlement", "commits"),
    "settlements_per_second": ("settlements_per_second",),
    "p50_ms": ("latency_ms", "p50"),
    "p99_ms": ("latency_ms", "p99"),
    "mean_batch": ("settlements_per_transaction", "mean"),
}


def _export(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    shutil.copytree(HERE, into / "benchmarks", ignore=shutil.ignore_patterns("results", "__pycache__"))


def _run(bench_dir: Path, src: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, str(bench_dir / "bench_claims.py"), "--out", str(out), *extra]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return dict(json.loads(out.read_text()))


def _figure(phase: dict[str, Any] | None, path: tuple[str, ...]) -> float | None:
    value: Any = phase
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def summary(runs: list[dict[str, Any]], baseline: str) -> dict[str, Any]:
    """Per phase and figure: the medians of `baseline`'s runs and of the current tree's, and their ratio."""
    out: dict[str, Any] = {}
    for phase in PHASES:
        rows: dict[str, Any] = {}
        for name, path in FIGURES.items():
            sides = {}
            for variant in (baseline, "current"):
                values = [
                    v
                    for r in runs
                    if r["variant"] == variant and (v := _figure(r["result"].get(phase), path)) is not None
                ]
                sides[variant] = round(statistics.median(values), 3) if values else None
            base, cur = sides[baseline], sides["current"]
            ratio = round(cur / base, 3) if base and cur is not None else None
            rows[name] = {"baseline_median": base, "current_median": cur, "current_over_baseline": ratio}
        out[phase] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--baseline", action="append", help="a commit to compare with (repeatable; default 19daf9d)"
    )
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--out", default="claims-settle-ab-issue20.json")
    parser.add_argument("extra", nargs="*", help="options for bench_claims.py (after --)")
    args = parser.parse_args()
    current = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    status = ["git", "-C", str(ROOT), "status", "--porcelain", "src"]
    dirty = bool(subprocess.run(status, capture_output=True, text=True).stdout.strip())
    baselines = args.baseline or ["19daf9d"]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sides = []
        for n, commit in enumerate(baselines):
            base = Path(tmp) / f"baseline-{n}"
            base.mkdir()
            _export(commit, base)
            sides.append((commit, base / "benchmarks", base / "src"))
        sides.append(("current", HERE, ROOT / "src"))
        for pair in range(1, args.pairs + 1):
            for variant, bench_dir, src in sides:
                result = _run(bench_dir, src, Path(tmp) / f"{variant}-{pair}.json", args.extra)
                result["machine"]["commit"] = (
                    current if variant == "current" else variant
                )  # not the cwd's HEAD
                runs.append({"variant": variant, "pair": pair, "result": result})
                print(f"pair {pair} {variant}: done", flush=True)
    from machine import machine_info

    document = {
        "benchmark": "claims instant settlement, A/B in one sitting (bench_claims_ab.py)",
        "baseline_commits": baselines,
        "current_commit": current + ("+uncommitted" if dirty else ""),
        "bench_options": args.extra,
        "machine": machine_info(),
        "summary_medians": {b: summary(runs, b) for b in baselines},
        "runs": runs,
    }
    target = Path(args.out) if Path(args.out).is_absolute() else HERE / "results" / args.out
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(document["summary_medians"], indent=2))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
