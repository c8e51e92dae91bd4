"""How a settlement batch's CPU changes with the encoder of its write documents, both ways in one process.

Why: a batch's rows go to PostgreSQL as one JSON document per table (`core.pipeline.json_rows`); py-spy put
that encoding at ~13-19 % of the settling thread (the json module's C encoder escaping every non-ASCII
character of the bilingual names, a Python `default` call per amount and time, then psycopg encoding the
text to UTF-8 again). This settles batches as `bench_claims_inproc.py` does (the batcher's own transaction:
`settle_batch`, then commit; new discharges of distinct persons) on one connection and alternates blocks of
batches between the json module's `json_rows` (as on main before h-bn, kept here verbatim) and the current
one (orjson, UTF-8 bytes handed to psycopg as a `json` parameter), so load drifts hit both alike. Per block:
the thread's CPU (Python and its system calls) and the PostgreSQL backend's (`/proc`), per settlement; the
summary gives each side's median over its blocks, their ratio, and the median of the paired block ratios.
After the blocks, 20 batches per side count the bytes of JSON each settlement sends, and their rows are
encoded again alone, both ways alternating (`encoding_alone_us_per_settlement`: the piece itself).

Usage: uv run python benchmarks/bench_claims_json_rows.py [--size 3] [--blocks 12] [--batches 25]
       [--out claims-settle-json-rows-h-bn.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def json_module_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    """`core.pipeline.json_rows` before h-bn: the json module's encoder, a `str` parameter."""
    return json.dumps(rows, default=_json_scalar)


def _json_scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as a JSON row value")


def _use(encode: Callable[..., Any]) -> None:
    from jinyu.claim.repository import pipeline as claim_pipeline
    from jinyu.core import pipeline

    pipeline.json_rows = encode  # type: ignore[assignment]  # the INSERTs' rows and the audit sealer's
    claim_pipeline.json_rows = encode  # type: ignore[assignment]  # accumulators' upsert, books' update


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sent_bytes(value: Any) -> int:
    data = value.obj if hasattr(value, "obj") else value  # psycopg's Json wrapper, or a str
    return len(data) if isinstance(data, bytes) else len(data.encode())


def _pieces(
    conn: Any, sides: dict[str, Callable[..., Any]], captured: list[Any], settled: int, blocks: int
) -> dict[str, Any]:
    """The encoding alone, as `core.pgsend` converts a parameter (psycopg's query class and the connection's
    adapters: a `str` is encoded to UTF-8 there), for the rows of `settled` settlements: alternating blocks
    of 20 repetitions, µs of the thread's CPU per settlement."""
    from psycopg._queries import PostgresRawQuery
    from psycopg.adapt import Transformer

    tx = Transformer(conn)
    per_block: dict[str, list[float]] = {side: [] for side in sides}
    for block in range(blocks):
        order = list(sides.items()) if block % 2 == 0 else list(reversed(sides.items()))
        for side, encode in order:
            t0 = time.thread_time()
            for _ in range(20):
                for rows in captured:
                    PostgresRawQuery(tx).convert(b"SELECT $1::json", [encode(rows)])
            per_block[side].append(1e6 * (time.thread_time() - t0) / (20 * settled))
    first, second = per_block
    base, new = statistics.median(per_block[first]), statistics.median(per_block[second])
    return {
        first: round(base, 1),
        second: round(new, 1),
        "ratio": round(new / base, 3),
        "blocks": {k: [round(v, 1) for v in vs] for k, vs in per_block.items()},
    }


def measure(size: int, blocks: int, batches: int, persons: int) -> dict[str, Any]:
    from bench_claims import _create_database, _drop_database, _request, _server_url, setup
    from sqlalchemy import text

    from jinyu.audit import service as audit
    from jinyu.claim.schemas import SettleIn
    from jinyu.claim.service.batch import Job, settle_batch
    from jinyu.config import load_settings
    from jinyu.core import db, pipeline
    from jinyu.party.service.identity import authenticate_api_key

    sides: dict[str, Callable[..., Any]] = {
        "json_module": json_module_rows,
        "orjson": pipeline.json_rows,
    }
    server = _server_url()
    name, url = _create_database(server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            world = setup(url, Path(tmp), 20, persons)
            key = load_settings(data_dir=Path(tmp), database_url=url).key("pseudonym_key")
            engine = db.make_engine(url)
            audit.journal_for(engine, True)  # entries journaled, as in a server process (no sealer here)
            factory = db.make_sessionmaker(engine)
            with factory() as s:
                principals = [authenticate_api_key(s, k) for k in world["keys"]]
                pid = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
            rng, n = random.Random(7), 0
            people = list(world["certnos"])

            def run_batches(count: int) -> None:
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

            for encode in sides.values():  # warm both: prepared statements (one per parameter type), caches
                _use(encode)
                run_batches(60)
            per_block: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
            for block in range(blocks):
                order = list(sides.items()) if block % 2 == 0 else list(reversed(sides.items()))
                for side, encode in order:
                    _use(encode)
                    py0, pg0 = time.thread_time(), _backend_cpu(pid)
                    run_batches(batches)
                    settled = size * batches
                    per_block[side].append(
                        (
                            1000 * (time.thread_time() - py0) / settled,
                            1000 * (_backend_cpu(pid) - pg0) / settled,
                        )
                    )
            sent: dict[str, float] = {}
            captured: list[Any] = []  # every json_rows call's rows of the last 20 batches
            for side, encode in sides.items():  # not timed: what each side sends
                total = [0]
                captured.clear()

                def counting(rows: Any, encode: Callable[..., Any] = encode, total: list[int] = total) -> Any:
                    captured.append(rows)
                    value = encode(rows)
                    total[0] += _sent_bytes(value)
                    return value

                _use(counting)
                run_batches(20)
                sent[side] = round(total[0] / (20 * size))
            _use(pipeline.json_rows)
            with engine.connect() as conn:
                pieces = _pieces(conn.connection.driver_connection, sides, captured, 20 * size, blocks)
            engine.dispose()
    finally:
        _drop_database(server, name)
    out: dict[str, Any] = {
        "blocks": per_block,
        "json_bytes_sent_per_settlement": sent,
        "encoding_alone_us_per_settlement": pieces,
    }
    first, second = per_block
    for i, figure in enumerate(("python_ms_per_settlement", "postgres_ms_per_settlement")):
        base = statistics.median(b[i] for b in per_block[first])
        new = statistics.median(b[i] for b in per_block[second])
        paired = [b[i] / a[i] for a, b in zip(per_block[first], per_block[second], strict=True) if a[i]]
        out[figure] = {
            first: round(base, 3),
            second: round(new, 3),
            "ratio": round(new / base, 3),
            "paired_ratio_median": round(statistics.median(paired), 3),
            "paired_ratio_min_max": [round(min(paired), 3), round(max(paired), 3)],
            "blocks_lower": sum(1 for r in paired if r < 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=3, help="discharges per batch")
    parser.add_argument("--blocks", type=int, default=12, help="blocks per side, alternating")
    parser.add_argument("--batches", type=int, default=25, help="batches per block")
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--out", default="claims-settle-json-rows-h-bn.json")
    args = parser.parse_args()

    from machine import calibration, machine_info

    document = {
        "benchmark": "claims settlement batches in-process, two ways alternating: "
        "json_rows by the json module against orjson",
        "size": args.size,
        "batches_per_block": args.batches,
        **measure(args.size, args.blocks, args.batches, args.persons),
        "machine": machine_info(),
        "calibration": calibration(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    target = Path(args.out) if Path(args.out).is_absolute() else HERE / "results" / args.out
    target.write_text(json.dumps(document, indent=2) + "\n")
    keys = (
        "python_ms_per_settlement",
        "postgres_ms_per_settlement",
        "json_bytes_sent_per_settlement",
        "encoding_alone_us_per_settlement",
    )
    print(json.dumps({k: document[k] for k in keys}))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
