"""How long `jinyu --help` and a domain's `--help` take, against a bare interpreter start in the same run.

Issue 19's goal: `jinyu --help` under 0.5 s. Each command runs N times alternating with the baseline (`python -c
pass`); the figures are medians of wall and CPU (user + system of the child) seconds, and the ratio of each to the
baseline. The machine is shared: compare ratios, and CPU time, more than wall time.

Usage: python benchmarks/bench_cli_startup.py [--runs 15] [--out cli-startup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.machine import machine_info

RESULTS = Path(__file__).resolve().parent / "results"
CASES = {
    "baseline: python -c pass": [sys.executable, "-c", "pass"],
    "jinyu --help": [sys.executable, "-m", "jinyu.cli", "--help"],
    "jinyu risk --help": [sys.executable, "-m", "jinyu.cli", "risk", "--help"],
}


def _once(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="cli-startup.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every case alike
        for name, cmd in CASES.items():
            samples[name].append(_once(cmd))
    base_wall = statistics.median(w for w, _ in samples["baseline: python -c pass"])
    base_cpu = statistics.median(c for _, c in samples["baseline: python -c pass"])
    figures = {}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        figures[name] = {
            "wall_s_median": round(wall, 3),
            "cpu_s_median": round(cpu, 3),
            "wall_ratio_to_baseline": round(wall / base_wall, 2),
            "cpu_ratio_to_baseline": round(cpu / base_cpu, 2),
        }
        print(f"{name:28s} wall {wall:6.3f} s  cpu {cpu:6.3f} s  ({wall / base_wall:5.1f}x baseline wall)")
    result = {"runs": args.runs, "figures": figures, "machine": machine_info()}
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
