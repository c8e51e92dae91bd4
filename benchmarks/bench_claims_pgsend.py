"""How a settlement batch's CPU changes with the way its pipelines are sent, both ways in one process.

Why: on the shared 2-core machine two processes measured minutes apart (`bench_claims_inproc.py --ab`) differ by
±20 % with no change of code, more than the change measured here. This settles batches as
`bench_claims_inproc.py` does (the batcher's own transaction: `settle_batch`, then commit; new discharges of
distinct persons) on one connection, and alternates blocks of batches between psycopg's own pipeline (the code
before `core.pgsend`, kept here as it was) and `core.pgsend`, so load drifts hit both alike. Per block: the
thread's CPU (Python and its system calls) and the PostgreSQL backend's, per settlement; the summary gives each
side's median over its blocks and their ratio.

With `--socket /var/run/postgresql` the two sides are instead both `pgsend`, one over TCP (the URL's host) and
one over the server's Unix socket: what the connection's kind costs the settling thread (its writes to the
socket hold the GIL).

Usage: uv run python benchmarks/bench_claims_pgsend.py [--size 3] [--blocks 12] [--batches 25]
       [--socket /var/run/postgresql] [--out claims-settle-pgsend-h-bj.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def psycopg_pipeline_run(session: Any, statements: Sequence[tuple[str, list[Any]]]) -> list[list[Any]]:
    """`core.pipeline.run` before `core.pgsend` (commit 7158d35): a cursor per statement in psycopg's pipeline."""
    import psycopg
    from psycopg.pq import ExecStatus

    from jinyu.core import pipeline

    conn = pipeline._driver(session)
    first_ones = session.info.pop(pipeline._PREFIX, [])
    cursors = []
    try:
        with conn.pipeline():
            for sql, params in [*first_ones, *statements]:
                positional = len(params) == 1 and isinstance(params[0], (list, tuple))
                cur = psycopg.RawCursor(conn) if positional else conn.cursor()
                if len(params) == 1:
                    cur.execute(sql.encode(), params[0] or None, prepare=None if params[0] else False)
                    cursors.append((cur, True))
                else:
                    cur.executemany(sql.encode(), params)
                    cursors.append((cur, False))
        results = [
            cur.fetchall()
            if single and cur.pgresult is not None and cur.pgresult.status == ExecStatus.TUPLES_OK
            else []
            for cur, single in cursors
        ]
    except psycopg.Error as exc:
        raise pipeline._wrapped(exc, "; ".join(sql for sql, _ in statements)[:2000]) from exc
    return results[len(first_ones) :]


def _use(run: Callable[..., Any]) -> None:
    from jinyu.claim.repository import pipeline as claim_pipeline
    from jinyu.core import pipeline

    pipeline.run = run  # type: ignore[assignment]
    claim_pipeline.run = run  # type: ignore[assignment]


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(size: int, blocks: int, batches: int, persons: int, socket: str | None = None) -> dict[str, Any]:
    from bench_claims import _create_database, _drop_database, _request, _server_url, setup
    from sqlalchemy import text

    from jinyu.audit import service as audit
    from jinyu.claim.schemas import SettleIn
    from jinyu.claim.service.batch import Job, settle_batch
    from jinyu.config import load_settings
    from jinyu.core import db, pipeline

    server = _server_url()
    name, url = _create_database(server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            world = setup(url, Path(tmp), 20, persons)
            key = load_settings(data_dir=Path(tmp), database_url=url).key("pseudonym_key")
            from sqlalchemy.engine import make_url

            from jinyu.party.service.identity import authenticate_api_key

            engines = {"tcp": db.make_engine(url)}
            if socket:  # the same database through the server's Unix socket
                unix = make_url(url).set(host=None, port=None).update_query_dict({"host": socket})
                engines["unix"] = db.make_engine(unix.render_as_string(hide_password=False))
            backends: dict[str, tuple[Any, int]] = {}
            for via, engine in engines.items():
                audit.journal_for(engine, True)
                factory_of = db.make_sessionmaker(engine)
                with factory_of() as s:
                    principals = [authenticate_api_key(s, k) for k in world["keys"]]
                    backends[via] = (factory_of, int(s.execute(text("SELECT pg_backend_pid()")).scalar_one()))
            if socket:  # both through pgsend, one connection each way
                sides = {"tcp": (pipeline.run, *backends["tcp"]), "unix": (pipeline.run, *backends["unix"])}
            else:
                sides = {
                    "psycopg_pipeline": (psycopg_pipeline_run, *backends["tcp"]),
                    "pgsend": (pipeline.run, *backends["tcp"]),
                }
            rng, n = random.Random(7), 0
            people = list(world["certnos"])

            def run_batches(count: int, factory: Any) -> None:
                nonlocal n
                for _ in range(count):
                    jobs = []
                    for certno in rng.sample(people, size):
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

            for run, factory, _ in sides.values():  # warm both: prepared statements, caches
                _use(run)
                run_batches(60, factory)
            per_block: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
            for block in range(blocks):
                order = list(sides.items()) if block % 2 == 0 else list(reversed(sides.items()))
                for side, (run, factory, pid) in order:
                    _use(run)
                    py0, pg0 = time.thread_time(), _backend_cpu(pid)
                    run_batches(batches, factory)
                    settled = size * batches
                    per_block[side].append(
                        (
                            1000 * (time.thread_time() - py0) / settled,
                            1000 * (_backend_cpu(pid) - pg0) / settled,
                        )
                    )
            for engine in engines.values():
                engine.dispose()
    finally:
        _drop_database(server, name)
    out: dict[str, Any] = {"blocks": per_block}
    first, second = per_block
    for i, figure in enumerate(("python_ms_per_settlement", "postgres_ms_per_settlement")):
        base = statistics.median(b[i] for b in per_block[first])
        new = statistics.median(b[i] for b in per_block[second])
        out[figure] = {first: round(base, 3), second: round(new, 3), "ratio": round(new / base, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=3, help="discharges per batch")
    parser.add_argument("--blocks", type=int, default=12, help="blocks per side, alternating")
    parser.add_argument("--batches", type=int, default=25, help="batches per block")
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument(
        "--socket", help="instead: pgsend over TCP against the server's Unix socket in this directory"
    )
    parser.add_argument("--out", default="claims-settle-pgsend-h-bj.json")
    args = parser.parse_args()

    from machine import calibration, machine_info

    document = {
        "benchmark": "claims settlement batches in-process, two ways alternating: "
        + (
            "pgsend over TCP against a Unix socket"
            if args.socket
            else "psycopg's pipeline against core.pgsend"
        ),
        "size": args.size,
        "batches_per_block": args.batches,
        **measure(args.size, args.blocks, args.batches, args.persons, args.socket),
        "machine": machine_info(),
        "calibration": calibration(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    target = Path(args.out) if Path(args.out).is_absolute() else HERE / "results" / args.out
    target.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps({k: document[k] for k in ("python_ms_per_settlement", "postgres_ms_per_settlement")}))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
