"""CPU of a settlement batch by its size, in-process: Python (this thread) and PostgreSQL (its backend).

Why: at 300/s the HTTP benchmark's batches hold one to four discharges, and on a shared 2-core machine its
CPU figures move with the neighbours' load. This settles batches of a fixed size through the batcher's own
transaction (`service.batch.settle_batch`, then commit, as `claim.batcher` does) on one connection, no HTTP,
and reads the CPU the thread and its PostgreSQL backend used (`/proc`), so the per-transaction cost and the
per-settlement cost can be told apart and two commits compared in one sitting (`--ab`). By default the audit
sealer does not run (entries stay journaled); with `--seal N` it seals what waits after every batch that brings
the waiting entries to N or more (a server's sealer at 300/s, waking every 0.2 s, links ~60 at a time), on a
connection of its own, and its Python and PostgreSQL CPU are reported apart (`sealer_*_ms_per_settlement`).

Usage: uv run python benchmarks/bench_claims_inproc.py [--sizes 1,2,4,12] [--batches 200] [--seal 60]
       [--ab 0d131bd [--rounds 3]] [--out claims-settle-inproc.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _open_connections(engine: Any, count: int) -> list[int]:
    """Open `count` pooled connections at once and return them to the pool; their backends' pids. The pool
    (FIFO, as the server's) then hands a lone thread's sessions round all of them, as over HTTP."""
    from sqlalchemy import text

    conns = [engine.connect() for _ in range(count)]
    pids = [int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in conns]
    for c in conns:
        c.rollback()
        c.close()
    return pids


def _plans(factory: Any) -> list[dict[str, Any]]:
    """The prepared statements of one pooled connection (the next session's) and how often PostgreSQL planned
    each: `custom_plans` counts the runs planned anew for their values, `generic_plans` those run on the plan
    kept. A statement psycopg has not prepared (fewer than 5 runs on that connection) is parsed and planned at
    every run and is not listed."""
    from sqlalchemy import text

    with factory() as s:
        rows = s.execute(
            text(
                "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 90), generic_plans, custom_plans "
                "FROM pg_prepared_statements ORDER BY custom_plans DESC"
            )
        ).all()
    return [{"statement": st, "generic_plans": g, "custom_plans": c} for st, g, c in rows]


def measure(
    sizes: list[int],
    batches: int,
    persons: int,
    seal: int = 0,
    connections: list[int] | None = None,
    pauses_ms: list[float] | None = None,
    work: bool = False,
) -> dict[str, Any]:
    """Settle `batches` batches of each size (new discharges of distinct persons) and the CPU per batch.

    `connections`: several counts run each size once per count, the sessions handed round that many pooled
    connections (all their backends' CPU counted). `pauses_ms`: each size (and count) run once per pause, idling
    that long after each batch (a backend woken per transaction, as at a low offered rate). `work`: PostgreSQL's
    buffer and tuple counters per block. The tables' statistics are kept as a server keeps them where
    autovacuum is off (`core.upkeep.keep_once` every 100 batches, on a connection of its own, not counted)."""
    from bench_claims import _create_database, _drop_database, _request, _server_url, setup
    from pgstats import counters, per_settlement
    from sqlalchemy import text

    from jinyu.audit import service as audit
    from jinyu.claim.schemas import SettleIn
    from jinyu.claim.service.batch import Job, settle_batch
    from jinyu.config import load_settings
    from jinyu.core import db
    from jinyu.core.upkeep import keep_once
    from jinyu.party.service.identity import authenticate_api_key

    server = _server_url()
    name, url = _create_database(server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            world = setup(url, Path(tmp), 20, persons)
            key = load_settings(data_dir=Path(tmp), database_url=url).key("pseudonym_key")
            counts = connections or [1]
            engines = {c: db.make_engine(url) for c in counts}
            factories = {c: db.make_sessionmaker(e) for c, e in engines.items()}
            for e in engines.values():
                audit.journal_for(e, True)  # entries journaled, as in a server process (no sealer here)
            pids = {c: _open_connections(e, c) for c, e in engines.items()}
            factory = factories[counts[0]]
            with factory() as s:
                principals = [authenticate_api_key(s, k) for k in world["keys"]]
            seal_engine = db.make_engine(url) if seal else None  # one thread: one connection
            seal_factory = db.make_sessionmaker(seal_engine) if seal_engine is not None else None
            seal_pid = 0
            if seal_factory is not None:
                with seal_factory() as s:
                    seal_pid = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
            sealer_cpu = [0.0, 0.0]  # Python, PostgreSQL seconds
            pause_ms = 0.0
            keeper = db.make_engine(url)
            kept = 0
            waiting = 0
            rng, n = random.Random(7), 0
            people = list(world["certnos"])

            def run_batches(size: int, count: int) -> None:
                nonlocal n, kept
                for _ in range(count):
                    jobs = []
                    for certno in rng.sample(people, size):  # distinct persons: none handed back
                        n += 1
                        data = SettleIn.model_validate(_request(certno, n, rng))
                        jobs.append(Job(rng.choice(principals), data, key, time.monotonic()))
                    session = factory()
                    try:
                        results = settle_batch(session, jobs)
                        session.commit()
                    finally:
                        session.close()
                    if any(r is None or isinstance(r, BaseException) for r in results):
                        raise RuntimeError(f"a discharge was not settled in its batch: {results}")
                    seal_if_due(size)
                    kept += 1
                    if kept % 100 == 0:
                        keep_once(keeper)  # as a server's upkeep thread (every 10 s there)
                    if pause_ms:
                        time.sleep(pause_ms / 1000)  # the backend idles, as between discharges at a low rate

            def seal_if_due(size: int) -> None:
                nonlocal waiting
                waiting += size
                if seal_factory is None or waiting < seal:
                    return
                py0, pg0 = time.thread_time(), _backend_cpu(seal_pid)
                with db.transaction(seal_factory) as session:
                    sealed = audit.seal(session, wait=True)
                sealer_cpu[0] += time.thread_time() - py0
                sealer_cpu[1] += _backend_cpu(seal_pid) - pg0
                if sealed < waiting:
                    raise RuntimeError(f"sealed {sealed} of {waiting} waiting entries")
                waiting = 0

            def block(size: int, backends: list[int], count: int) -> dict[str, Any]:
                sealer_cpu[:] = [0.0, 0.0]
                before = counters(url) if work else None
                py0, wall0 = time.thread_time(), time.perf_counter()
                pg0 = sum(_backend_cpu(b) for b in backends)
                run_batches(size, batches)
                py = time.thread_time() - py0 - sealer_cpu[0]
                pg = sum(_backend_cpu(b) for b in backends) - pg0
                wall = time.perf_counter() - wall0
                settled = size * batches
                row: dict[str, Any] = {
                    "batches": batches,
                    "connections": count,
                    "pause_ms": pause_ms,
                    "python_ms_per_settlement": round(1000 * py / settled, 3),
                    "postgres_ms_per_settlement": round(1000 * pg / settled, 3),
                    "total_ms_per_settlement": round(1000 * (py + pg) / settled, 3),
                    "wall_ms_per_batch": round(1000 * wall / batches, 3),
                }
                if seal:
                    row |= {
                        "sealer_python_ms_per_settlement": round(1000 * sealer_cpu[0] / settled, 3),
                        "sealer_postgres_ms_per_settlement": round(1000 * sealer_cpu[1] / settled, 3),
                    }
                if before is not None:
                    row["database_per_settlement"] = per_settlement(before, counters(url), settled)
                return row

            for c in counts:
                factory = factories[c]
                run_batches(1, 100 * c)  # warm: prepared statements (5 runs per connection), caches
            out: dict[str, Any] = {}
            for size in sizes:
                for c in counts:
                    for pause_ms in pauses_ms or [0.0]:
                        factory = factories[c]
                        key_ = str(size) if connections is None else f"{size}x{c}"
                        key_ += f"-pause{pause_ms:g}" if pauses_ms else ""
                        while key_ in out:  # a size given twice: its second run kept apart
                            key_ += "'"
                        out[key_] = block(size, pids[c], c)
            if work:
                out["plans"] = _plans(factories[counts[0]])
            for e in [*engines.values(), keeper]:
                e.dispose()
            if seal_engine is not None:
                seal_engine.dispose()
            return out
    finally:
        _drop_database(server, name)


def _ab(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline's `src/` (git archive) and this tree's, alternated, each run in its own process."""
    root = HERE.parent
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", args.ab, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        sides = [(args.ab, Path(tmp) / "src"), ("current", root / "src")]
        for round_ in range(1, args.rounds + 1):
            for variant, src in sides:
                out = Path(tmp) / f"{variant}-{round_}.json"
                cmd = [sys.executable, __file__, "--sizes", args.sizes, "--batches", str(args.batches)]
                cmd += ["--persons", str(args.persons), "--seal", str(args.seal), "--out", str(out)]
                subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(src)}, check=True)
                runs.append({"variant": variant, "round": round_, "result": json.loads(out.read_text())})
    medians: dict[str, Any] = {}
    for size in args.sizes.split(","):
        row: dict[str, Any] = {}
        figures = ["python_ms_per_settlement", "postgres_ms_per_settlement", "total_ms_per_settlement"]
        if args.seal:
            figures += ["sealer_python_ms_per_settlement", "sealer_postgres_ms_per_settlement"]
        for figure in figures:
            base = statistics.median(
                r["result"]["sizes"][size][figure] for r in runs if r["variant"] == args.ab
            )
            cur = statistics.median(
                r["result"]["sizes"][size][figure] for r in runs if r["variant"] == "current"
            )
            row[figure] = {"baseline": base, "current": cur, "current_over_baseline": round(cur / base, 3)}
        medians[size] = row
    return {"baseline": args.ab, "rounds": args.rounds, "medians": medians, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,2,4,12", help="batch sizes, comma-separated")
    parser.add_argument("--batches", type=int, default=200, help="batches measured per size")
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--ab", help="a baseline commit: alternate it with this tree, --rounds times each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--seal", type=int, default=0, help="seal once this many entries wait (0: never; the sealer's share)"
    )
    parser.add_argument(
        "--connections",
        help="comma-separated pooled connection counts the sessions go round (e.g. 1,10: each size run once per count)",
    )
    parser.add_argument(
        "--pauses-ms",
        help="comma-separated idle times after each batch, ms (e.g. 0,8: each size run once per pause)",
    )
    parser.add_argument(
        "--work",
        action="store_true",
        help="PostgreSQL's buffer and tuple counters per block (waits 11 s twice)",
    )
    parser.add_argument("--out", default="claims-settle-inproc.json")
    args = parser.parse_args()

    from machine import calibration, machine_info

    if args.ab:
        document = {"benchmark": "claims settlement batches in-process, A/B", **_ab(args)}
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        document = {
            "benchmark": "claims settlement batches in-process",
            "sizes": measure(
                sizes,
                args.batches,
                args.persons,
                args.seal,
                [int(c) for c in args.connections.split(",")] if args.connections else None,
                [float(p) for p in args.pauses_ms.split(",")] if args.pauses_ms else None,
                args.work,
            ),
        }
    document["machine"] = machine_info()
    document["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    if args.ab:
        document["calibration"] = calibration()
    target = Path(args.out) if Path(args.out).is_absolute() else HERE / "results" / args.out
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(document.get("medians") or document["sizes"], indent=2))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
