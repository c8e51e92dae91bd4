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


def measure(sizes: list[int], batches: int, persons: int, seal: int = 0) -> dict[str, Any]:
    """Settle `batches` batches of each size (new discharges of distinct persons) and the CPU per batch."""
    from bench_claims import _create_database, _drop_database, _request, _server_url, setup
    from sqlalchemy import text

    from jinyu.audit import service as audit
    from jinyu.claim.schemas import SettleIn
    from jinyu.claim.service.batch import Job, settle_batch
    from jinyu.config import load_settings
    from jinyu.core import db
    from jinyu.party.service.identity import authenticate_api_key

    server = _server_url()
    name, url = _create_database(server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            world = setup(url, Path(tmp), 20, persons)
            key = load_settings(data_dir=Path(tmp), database_url=url).key("pseudonym_key")
            engine = db.make_engine(url)
            factory = db.make_sessionmaker(engine)
            audit.journal_for(engine, True)  # entries journaled, as in a server process (no sealer here)
            with factory() as s:
                principals = [authenticate_api_key(s, k) for k in world["keys"]]
                pid = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
            seal_engine = db.make_engine(url) if seal else None  # one thread: one connection
            seal_factory = db.make_sessionmaker(seal_engine) if seal_engine is not None else None
            seal_pid = 0
            if seal_factory is not None:
                with seal_factory() as s:
                    seal_pid = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
            sealer_cpu = [0.0, 0.0]  # Python, PostgreSQL seconds
            waiting = 0
            rng, n = random.Random(7), 0
            people = list(world["certnos"])

            def run_batches(size: int, count: int) -> None:
                nonlocal n
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

            run_batches(1, 100)  # warm: prepared statements, caches
            out: dict[str, Any] = {}
            for size in sizes:
                sealer_cpu[:] = [0.0, 0.0]
                py0, pg0, wall0 = time.thread_time(), _backend_cpu(pid), time.perf_counter()
                run_batches(size, batches)
                py = time.thread_time() - py0 - sealer_cpu[0]
                pg = _backend_cpu(pid) - pg0
                settled = size * batches
                out[str(size)] = {
                    "batches": batches,
                    "python_ms_per_settlement": round(1000 * py / settled, 3),
                    "postgres_ms_per_settlement": round(1000 * pg / settled, 3),
                    "total_ms_per_settlement": round(1000 * (py + pg) / settled, 3),
                    "wall_ms_per_batch": round(1000 * (time.perf_counter() - wall0) / batches, 3),
                }
                if seal:
                    out[str(size)] |= {
                        "sealer_python_ms_per_settlement": round(1000 * sealer_cpu[0] / settled, 3),
                        "sealer_postgres_ms_per_settlement": round(1000 * sealer_cpu[1] / settled, 3),
                    }
            engine.dispose()
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
    parser.add_argument("--out", default="claims-settle-inproc.json")
    args = parser.parse_args()

    from machine import calibration, machine_info

    if args.ab:
        document = {"benchmark": "claims settlement batches in-process, A/B", **_ab(args)}
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        document = {
            "benchmark": "claims settlement batches in-process",
            "sizes": measure(sizes, args.batches, args.persons, args.seal),
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
