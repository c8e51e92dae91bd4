"""How long `jinyu --help`, every `jinyu <group> --help` and one `jinyu <group> <command> --help` per group take,
against a bare interpreter start and, optionally, another checkout (the previous code) in the same run.

Issue 19's goal: each of them under 0.5 s. Each command runs N times interleaved with the baseline (`python -c
pass`) and with the other checkout's same command; the figures are medians of wall and CPU (user + system of
the child) seconds, the ratio of each to the baseline and, with `--against`, to the other checkout. The machine
is shared: compare ratios, and CPU time, more than wall time.

Usage: python benchmarks/bench_cli_startup.py [--runs 7] [--against /work/main] [--out cli-startup.json]
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
HERE = Path(__file__).resolve().parent.parent
BASELINE = "baseline: python -c pass"
# One command per group: the one whose module is the heaviest to import was the slowest before issue 19.
SUBCOMMAND = {
    "audit": "verify",
    "datasets": "list",
    "orgs": "list",
    "users": "list",
    "risk": "return-flow",
    "claim": "enroll",
    "governance": "check",
    "financing": "demand",
    "credit": "card",
    "joint": "job",
    "chain": "network",
    "policy": "show",
    "keys": "rotate",
}
SINGLE = ["ingest", "ingest-region", "ingest-quarantine", "synth", "synth-quality", "db"]


def cases() -> dict[str, list[str]]:
    out = {"jinyu --help": ["--help"]}
    for group in [*SUBCOMMAND, *SINGLE]:
        out[f"jinyu {group} --help"] = [group, "--help"]
    for group, command in SUBCOMMAND.items():
        out[f"jinyu {group} {command} --help"] = [group, command, "--help"]
    return out


def _once(python: str, args: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    cmd = [python, "-c", "pass"] if not args else [python, "-m", "jinyu.cli", *args]
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(cwd / "src")}
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout (e.g. main) timed in the same run")
    parser.add_argument("--out", default="cli-startup.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    trees = {"this": HERE, **({"against": args.against.resolve()} if args.against else {})}
    named = {BASELINE: [], **cases()}
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every case alike
        for name, argv in named.items():
            for tree, root in trees.items():
                if name == BASELINE and tree != "this":
                    continue
                samples.setdefault((name, tree), []).append(_once(sys.executable, argv, root))
    base_wall = statistics.median(w for w, _ in samples[(BASELINE, "this")])
    base_cpu = statistics.median(c for _, c in samples[(BASELINE, "this")])
    figures: dict[str, dict[str, float]] = {}
    for name in named:
        runs = samples[(name, "this")]
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        row = {
            "wall_s_median": round(wall, 3),
            "cpu_s_median": round(cpu, 3),
            "wall_ratio_to_baseline": round(wall / base_wall, 2),
            "cpu_ratio_to_baseline": round(cpu / base_cpu, 2),
        }
        line = f"{name:42s} wall {wall:6.3f} s  cpu {cpu:6.3f} s"
        if (name, "against") in samples:
            other = samples[(name, "against")]
            o_wall, o_cpu = statistics.median(w for w, _ in other), statistics.median(c for _, c in other)
            row |= {
                "against_wall_s_median": round(o_wall, 3),
                "against_cpu_s_median": round(o_cpu, 3),
                "wall_ratio_to_against": round(wall / o_wall, 3),
            }
            line += f"  | against wall {o_wall:6.3f} s  ratio {wall / o_wall:5.2f}"
        figures[name] = row
        print(line)
    result = {
        "runs": args.runs,
        "against": str(args.against) if args.against else None,
        "figures": figures,
        "machine": machine_info(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
