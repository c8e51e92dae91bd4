"""Load-generation helpers of the HTTP benchmarks: reading responses off keep-alive connections, running the
generator on uvloop, CPU per request from /proc, latency summaries, and the served process's lifecycle."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any


async def read_response(reader: asyncio.StreamReader) -> int:
    """Status of one HTTP/1.1 response, its body read off the connection (the server sends Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def run(coro: Any) -> Any:
    """Run the load generator on uvloop (installed with uvicorn[standard]): less of the machine for it."""
    import uvloop

    return uvloop.run(coro)


def cpu_seconds(server_group: int, ours: set[int] | None = None) -> dict[str, float]:
    """CPU seconds used so far by the server's processes (its process group) and by PostgreSQL, from /proc: a
    per-settlement CPU cost that a busy, shared machine disturbs far less than wall time. With `ours` (the
    PostgreSQL processes serving the benchmark, `postgres_pids`), PostgreSQL's work for other databases'
    clients on a shared machine is left out."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"server": 0.0, "postgres": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[2]) == server_group:
            out["server"] += seconds
        elif comm == "postgres" and (ours is None or int(entry.name) in ours):
            out["postgres"] += seconds
    out["client"] = time.process_time()
    return out


def postgres_pids(url: str) -> set[int]:
    """PostgreSQL's processes working for one database: its backends, and the shared writers (WAL writer,
    checkpointer, background writer) whose work its writes cause (`postgres_kinds`' processes)."""
    return set(postgres_kinds(url))


def postgres_kinds(url: str) -> dict[int, str]:
    """The kind of each of `postgres_pids`' processes: its backend type, and for a client backend of the
    database also its application name when it has one (`client backend`, `walwriter`, ...)."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid, backend_type, application_name FROM pg_stat_activity WHERE (datname = :db OR "
                "backend_type IN ('walwriter', 'checkpointer', 'background writer')) AND pid <> pg_backend_pid()"
            ),
            {"db": make_url(url).database},
        )
        kinds = {int(pid): str(kind) + (f": {app}" if app else "") for pid, kind, app in rows}
    engine.dispose()
    return kinds


def _process_cpu(pids: set[int]) -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def postgres_breakdown(
    kinds: dict[int, str], before: dict[int, float], after: dict[int, float], done: int
) -> dict[str, Any]:
    """PostgreSQL's CPU per settlement by process kind, and how it spread over the client backends: how many
    did any work, and each one's share (the pool hands the settling thread's transactions round its
    connections; docs/claims.md, issue 20, h-bu). A backend started during the phase counts all its CPU."""
    by_kind: dict[str, float] = {}
    backends: list[float] = []
    for pid, kind in kinds.items():
        used = after.get(pid, before.get(pid, 0.0)) - before.get(pid, 0.0)
        by_kind[kind] = by_kind.get(kind, 0.0) + used
        if kind.startswith("client backend"):
            backends.append(used)
    return {
        "ms_per_settlement_by_kind": {k: round(v * 1000 / done, 3) for k, v in sorted(by_kind.items())},
        "client_backends_busy": sum(1 for b in backends if b > 0),
        "client_backends_ms_per_settlement": sorted(
            (round(b * 1000 / done, 3) for b in backends), reverse=True
        ),
        "backends_started_in_phase": sorted({k for p, k in kinds.items() if p not in before}),
    }


def phase(run: Any, server_group: int, url: str | None = None) -> dict[str, Any]:
    """Run one load phase; its figures plus the CPU milliseconds per settlement of each side (with `url`, the
    PostgreSQL side counts only the processes serving that database, and is also broken down by process)."""
    ours = postgres_pids(url) if url else None
    kinds = postgres_kinds(url) if url else {}
    per_process = _process_cpu(set(kinds))
    before = cpu_seconds(server_group, ours)
    latencies, statuses, elapsed = run()
    if url and ours is not None:
        ours |= postgres_pids(url)  # connections opened during the phase (their earlier CPU: none)
        kinds = {**postgres_kinds(url), **kinds}
    after = cpu_seconds(server_group, ours)
    per_process_after = _process_cpu(set(kinds))
    result = summary(latencies, statuses, elapsed)
    done = max(1, len(latencies))
    cpu = {k: round((after[k] - before.get(k, 0.0)) * 1000 / done, 2) for k in after}
    cpu["total"] = round(sum(cpu.values()), 2)
    result["cpu_ms_per_settlement"] = cpu
    if url:
        result["postgres_by_process"] = postgres_breakdown(kinds, per_process, per_process_after, done)
    result["cpu_bound_capacity_per_second"] = round(2000 / cpu["total"], 1) if cpu["total"] else None
    return result


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop uvicorn and its workers (one process group, started by us)."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Until the server answers /healthz; on a shared machine under load its start alone took over a minute."""
    import httpx

    until = time.time() + timeout
    while time.time() < until:
        if proc.poll() is not None:
            raise RuntimeError("uvicorn exited / 服务进程退出")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("server not ready / 服务未就绪")


def summary(latencies: list[float], statuses: dict[int, int], elapsed: float) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) >= 100 else [max(ms)] * 99
    ok = statuses.get(201, 0)
    return {
        "requests": len(ms),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(elapsed, 2),
        "settlements_per_second": round(ok / elapsed, 1),
        "latency_ms": {
            "p50": round(statistics.median(ms), 1),
            "p95": round(q[94], 1),
            "p99": round(q[98], 1),
            "max": round(ms[-1], 1),
        },
    }
