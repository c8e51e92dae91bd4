"""Machine facts recorded with every benchmark result, and a fixed calibration workload.

Why the calibration: machines "of the same kind" differ (CPU model and clock, noisy neighbours on the host).
Timing a fixed pure-Python loop and a trivial PostgreSQL round trip in the same run as a benchmark lets two
machines' results be compared and normalised: a figure that moves with the calibration is the machine, one
that moves against it is the code. CPU steal (time the hypervisor gave to someone else) is read from
/proc/stat for the same reason.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def result_path(value: str) -> Path:
    """`--out` of a benchmark: a bare file name goes to benchmarks/results/, a path with a folder stays as given."""
    path = Path(value)
    return RESULTS_DIR / path if path.parent == Path(".") else path


# A fixed amount of interpreter work: about 50-150 ms on the 2-core machines of this project.
_LOOP_N = 1_000_000


def machine_info() -> dict[str, Any]:
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpuinfo("model name"),
        "cpu_mhz": _cpuinfo("cpu MHz"),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "commit": commit,
    }


def _cpuinfo(field: str) -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == field:
                    return value.strip()
    except OSError:
        pass
    return ""


def python_loop_ms(runs: int = 7) -> dict[str, float]:
    """Median and best wall time of a fixed pure-Python loop (integer arithmetic, no allocation to speak of)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(_LOOP_N):
            total += i * i % 7
        times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 2), "best": round(min(times), 2)}


def postgres_round_trip_us(url: str, count: int = 2000) -> dict[str, float]:
    """Median and p95 of a trivial `SELECT 1` round trip on one connection (psycopg, prepared)."""
    import psycopg
    from sqlalchemy import make_url

    u = make_url(url)
    times = []
    with psycopg.connect(
        host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True
    ) as conn:
        for _ in range(count):
            started = time.perf_counter()
            conn.execute("SELECT 1", prepare=True).fetchone()
            times.append((time.perf_counter() - started) * 1_000_000)
    q = statistics.quantiles(times, n=20)
    return {"median": round(statistics.median(times), 1), "p95": round(q[18], 1)}


def calibration(pg_url: str | None = None) -> dict[str, Any]:
    """The fixed workloads, timed now (see the module's doc)."""
    out: dict[str, Any] = {"python_loop_ms": python_loop_ms(), "python_loop_iterations": _LOOP_N}
    if pg_url:
        out["postgres_select1_us"] = postgres_round_trip_us(pg_url)
    return out


def cpu_times() -> dict[str, int]:
    """The machine's CPU time counters (jiffies) from /proc/stat's first line."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    return {n: int(v) for n, v in zip(names, parts, strict=False)}


def cpu_shares(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """Busy, idle and steal as % of all CPU time between two `cpu_times()` readings."""
    delta = {k: after[k] - before[k] for k in before}
    total = sum(delta.values()) or 1
    busy = total - delta["idle"] - delta["iowait"] - delta.get("steal", 0)
    return {
        "busy_pct": round(100 * busy / total, 1),
        "idle_pct": round(100 * (delta["idle"] + delta["iowait"]) / total, 1),
        "steal_pct": round(100 * delta.get("steal", 0) / total, 1),
    }
