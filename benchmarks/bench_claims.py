"""Instant claim settlement under load: POST /api/v1/claims/settlements on PostgreSQL.

Targets (from the issue): p99 < 50 ms and >= 300 settlements/s with 50 concurrent clients.

What it does, all on this machine:
- creates a throwaway PostgreSQL database (server from JINYU_BENCH_POSTGRES_URL, else JINYU_TEST_POSTGRES_URL,
  else postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and the tables;
- sets up one co-insured product (the shipped sample), --hospitals hospitals each with its own API key and a
  funded prepaid book per insurer, and --persons enrolled persons;
- serves the app as `jinyu serve` does (`jinyu.serving`: --workers uvicorn processes, each with its own
  listening socket) on 127.0.0.1 only;
- drives it with --clients concurrent HTTP clients (keep-alive connections on uvloop, in this process,
  loopback only) for at most --requests settlements or --seconds seconds, after a warm-up; every request is a
  new discharge of a random person at a random hospital, settled in one step (auto_confirm);
- checks afterwards that the books and the settlements agree to the fen;
- writes the figures with the machine's facts to benchmarks/results/claims-settle.json.

The load generator shares the 2 cores with the server and PostgreSQL: the figures are what this machine
reaches with everything on it, not what the server alone could do.

Two measured phases after the warm-up, both with --clients concurrent clients:
- capacity (closed loop): each client sends its next settlement as soon as the last is answered; the
  throughput is what the machine can do, the latency is mostly queueing (50 clients / throughput);
- at the target rate (open loop, --rate, default 300/s): settlements are due at fixed intervals shared by the
  clients, and each latency counts from when it was due, so falling behind shows as latency.
A closed loop of 50 clients cannot show p99 < 50 ms below 1,000 settlements/s (Little's law), so the p99
target is read from the open-loop phase and the throughput target from both.

Usage: uv run python benchmarks/bench_claims.py [--workers 1] [--clients 50] [--requests 3000] [--seconds 60]
       [--rate 300]
This file is also the uvicorn app factory (`bench_claims:make_app`) for the served processes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402  (next to this file)


def make_app() -> Any:
    """The served app: the platform's, with the claim router mounted if app.py does not mount it yet."""
    from jinyu.app import create_app, quiet_collector
    from jinyu.claim import endpoints

    app = create_app()
    quiet_collector()  # as `jinyu serve` workers do
    if not any(getattr(r, "path", "").startswith("/api/v1/claims") for r in app.routes):
        app.include_router(endpoints.router, prefix="/api/v1")
    threads = int(os.environ.get("JINYU_BENCH_THREADS", "0"))
    if threads:
        return _MoreThreads(app, threads)
    return app


class _MoreThreads:
    """ASGI wrapper raising the worker-thread limit of the running loop (sync endpoints and dependencies)."""

    def __init__(self, app: Any, tokens: int) -> None:
        self.app, self.tokens, self.done = app, tokens, False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.done:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.tokens
            self.done = True
        await self.app(scope, receive, send)


def _server_url() -> str:
    return (
        os.environ.get("JINYU_BENCH_POSTGRES_URL")
        or os.environ.get("JINYU_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def _create_database(server: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, make_url, text

    name = f"jinyu_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop_database(server: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _resident_id(n: int) -> str:
    from jinyu.core.ids import ric_check_digit

    body = f"500101{1950 + n % 50:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric_check_digit(body)


def setup(url: str, data_dir: Path, hospitals: int, persons: int) -> dict[str, Any]:
    """Organisations, API keys, the product, funded books and enrolled persons; returns what the load needs."""
    import yaml

    from jinyu.claim import service
    from jinyu.claim.schemas import EnrollmentIn, LedgerBookIn, LedgerEntryIn, ProductIn
    from jinyu.config import load_settings
    from jinyu.core import db
    from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
    from jinyu.models import metadata
    from jinyu.party import service as party
    from jinyu.party.schemas import OrgCreate, ServiceAccountCreate

    settings = load_settings(data_dir=data_dir, database_url=url)
    engine = db.make_engine(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    key = settings.key("pseudonym_key")
    sample = Path(__file__).resolve().parents[1] / "src/jinyu/claim/products/sample_chongqing_2025.yaml"
    definition = yaml.safe_load(sample.read_text(encoding="utf-8"))
    with db.transaction(factory) as s:
        insurers = [
            party.create_org(s, SYSTEM, OrgCreate(kind=OrgKind.INSURER, code=code, name=f"保险公司 {code}"))
            for code in ("I0001", "I0002")
        ]
        staff = [
            Principal(
                subject_id=f"bench:{i.code}",
                username=f"bench@{i.code}",
                org_id=i.id,
                org_kind=OrgKind.INSURER,
                tenant_id=i.tenant_id,
                org_path=f"/{i.id}/",
                roles=frozenset({Role.INSURER_STAFF}),
            )
            for i in insurers
        ]
        service.create_product(s, staff[0], ProductIn(definition=definition, activate=True))
        keys = []
        for n in range(hospitals):
            h = party.create_org(
                s, SYSTEM, OrgCreate(kind=OrgKind.HOSPITAL, code=f"H{n:05d}", name=f"医院 {n}")
            )
            account = party.create_service_account(
                s, SYSTEM, ServiceAccountCreate(name=f"HIS {n}", org_id=h.id, roles=[Role.HOSPITAL_SYSTEM])
            )
            keys.append(account.api_key)
            for p in staff:
                book = service.create_book(s, p, LedgerBookIn(hospital_id=h.id, product_year=2025))
                service.post_entry(
                    s,
                    p,
                    book.id,
                    LedgerEntryIn(kind="deposit", amount=Decimal("100000000.00"), reference="bench"),
                )
    certnos = [_resident_id(n) for n in range(persons)]
    with db.transaction(factory) as s:
        for c in certnos:
            service.enroll(s, staff[0], EnrollmentIn(product_code="CQ-YKB-2025", certno=c), key)  # type: ignore[arg-type]
    engine.dispose()
    return {"keys": keys, "certnos": certnos}


def _request(certno: str, n: int, rng: random.Random) -> dict[str, Any]:
    inscp = Decimal(rng.randint(500_000, 6_000_000)) / 100
    ownpay = Decimal(rng.randint(0, 2_000_000)) / 100
    hifp = (inscp * Decimal("0.6")).quantize(Decimal("0.01"))
    day = dt.datetime(2025, 1, 1, 8) + dt.timedelta(minutes=n)
    return {
        "msg_id": f"B{n:08d}",
        "certno": certno,
        "auto_confirm": True,
        "setlinfo": {
            "mdtrt_id": f"V{n:010d}",
            "setl_id": f"S{n:010d}",
            "setl_time": day.isoformat(),
            "medfee_sumamt": str(inscp + ownpay),
            "fulamt_ownpay_amt": str(ownpay),
            "inscp_scp_amt": str(inscp),
            "hifp_pay": str(hifp),
            "dise_codg": "K35.8",
        },
    }


async def _drive(
    base: str,
    keys: list[str],
    certnos: list[str],
    clients: int,
    count: int,
    seconds: float,
    start_n: int,
    rate: float = 0.0,
) -> tuple[list[float], dict[int, int], float]:
    """Closed loop (rate 0: each client sends its next request when the last one is answered), or open loop at
    `rate` requests/s shared by the clients: request i is due at start + i/rate and its latency is counted from
    when it was due, so a server that falls behind shows it (no coordinated omission).

    Each client is one keep-alive HTTP/1.1 connection written and read with asyncio streams: a lean load
    generator (an HTTP client library cost ~4 ms of CPU per request here, taken from the server's 2 cores)."""
    host, port = base.removeprefix("http://").split(":")
    rng = random.Random(7 + start_n)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(start_n, start_n + count))

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for n in counter:
                due = started + (n - start_n) / rate if rate else 0.0
                if due:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if time.perf_counter() > deadline:
                    return
                payload = json.dumps(_request(rng.choice(certnos), n, rng)).encode()
                head = (
                    f"POST /api/v1/claims/settlements HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {keys[n % len(keys)]}"
                    f"\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
                )
                t0 = due or time.perf_counter()
                try:
                    writer.write(head.encode() + payload)
                    code = await loadgen.read_response(reader)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    ValueError,
                ):  # a failure (status 0), not retried
                    code = 0
                latencies.append(time.perf_counter() - t0)
                statuses[code] = statuses.get(code, 0) + 1
                if code == 0:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
        finally:
            writer.close()

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def _auditor() -> Any:
    from jinyu.core.auth import OrgKind, Principal, Role

    return Principal(
        subject_id="bench:auditor",
        username="bench-auditor",
        org_id="bench-regulator",
        org_kind=OrgKind.REGULATOR,
        tenant_id="bench-regulator",
        org_path="/bench-regulator/",
        roles=frozenset({Role.REGULATOR_SUPERVISOR}),
    )


def _phase(url: str, run: Any, server_group: int) -> dict[str, Any]:
    """One load phase (`loadgen.phase`) plus the machine's CPU shares (steal included) while it ran, the
    sizes of the transactions its settlements were committed in, and the rows and commits per settlement
    (`pgstats`; it waits ~11 s for PostgreSQL's counters before and after, with the server idle)."""
    from machine import cpu_shares, cpu_times
    from pgstats import counters, per_settlement

    rows_before = counters(url)
    started, before = dt.datetime.now(dt.UTC), cpu_times()
    result = loadgen.phase(run, server_group, url)
    result["machine_cpu"] = cpu_shares(before, cpu_times())
    result["settlements_per_transaction"] = _batch_sizes(url, started, dt.datetime.now(dt.UTC))
    result["database_per_settlement"] = per_settlement(
        rows_before, counters(url), result["statuses"].get("201", 0)
    )
    return result


def _batch_sizes(url: str, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Settlements per committing transaction in a time window: rows written by one transaction share its
    PostgreSQL `xmin`, so grouping the settlements by it gives each batch's size without the server's help."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        sizes = [
            int(n)
            for (n,) in conn.execute(
                text(
                    "SELECT count(*) FROM claim_settlements WHERE created_at >= :a AND created_at < :b "
                    "GROUP BY xmin::text"
                ),
                {"a": since, "b": until},
            )
        ]
    engine.dispose()
    if not sizes:
        return {"transactions": 0}
    buckets = {"1": 0, "2-3": 0, "4-7": 0, "8-15": 0, "16+": 0}
    for size in sizes:
        label = (
            "1" if size == 1 else "2-3" if size < 4 else "4-7" if size < 8 else "8-15" if size < 16 else "16+"
        )
        buckets[label] += size
    settled = sum(sizes)
    return {
        "transactions": len(sizes),
        "mean": round(settled / len(sizes), 2),
        "share_of_settlements_pct_by_batch_size": {
            k: round(100 * v / settled, 1) for k, v in buckets.items()
        },
    }


def _check_books(url: str) -> dict[str, Any]:
    """Ledger and settlements agree to the fen; accumulators equal their entries; every settlement audited and
    the audit chain sealed and valid after the server stopped."""
    from sqlalchemy import func, select

    from jinyu.audit import service as audit
    from jinyu.audit.models import AuditEntry
    from jinyu.claim.models import ClaimAccumulator, ClaimAccumulatorEntry, ClaimLedgerBook, ClaimSettlement
    from jinyu.core import db

    engine = db.make_engine(url)
    with engine.connect() as conn:
        paid = conn.scalar(
            select(func.sum(ClaimSettlement.payout)).where(ClaimSettlement.status == "settled")
        )
        claims = conn.scalar(select(func.sum(ClaimLedgerBook.claims)))
        count = conn.scalar(select(func.count()).select_from(ClaimSettlement))
        acc = conn.scalar(select(func.sum(ClaimAccumulator.amount)))
        entries = conn.scalar(select(func.sum(ClaimAccumulatorEntry.amount)))
        audited = conn.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "claim.settlement.settle")
        )
        unsealed = conn.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
    with db.transaction(db.make_sessionmaker(engine)) as session:
        chain = audit.verify(session, _auditor())
    engine.dispose()
    return {
        "audited_settlements": audited,
        "audit_entries_unsealed_after_stop": unsealed,
        "audit_chain_ok": chain.ok,
        "audit_chain_checked": chain.checked,
        "settlements": count,
        "payout_total": str(paid),
        "ledger_claims_total": str(claims),
        "ledger_agrees": paid == claims,
        "accumulators_agree": acc == entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default 1, as `jinyu serve`; docs/claims.md)",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=3000, help="measured settlements at most")
    parser.add_argument("--seconds", type=float, default=60, help="measured time at most")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--rate",
        type=float,
        default=300,
        help="then offer this many settlements/s for --seconds, open loop (0: skip that phase)",
    )
    parser.add_argument("--hospitals", type=int, default=20)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument(
        "--out",
        default="claims-settle.json",
        help="results file: a name under benchmarks/results/ (an absolute path is used as it is)",
    )
    parser.add_argument(
        "--inflight", type=int, default=8, help="JINYU_MAX_INFLIGHT of the served app (admission control)"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=32,
        help="JINYU_SETTLE_BATCH of the served app (settlements per transaction)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="worker-thread tokens per process (0: the app's own setting)"
    )
    args = parser.parse_args()

    from machine import calibration, machine_info

    server = _server_url()
    name, url = _create_database(server)
    proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            t0 = time.perf_counter()
            world = setup(url, data_dir, args.hospitals, args.persons)
            setup_s = time.perf_counter() - t0
            port = loadgen.free_port()
            env = {
                **os.environ,
                "JINYU_DATABASE_URL": url,
                "JINYU_DATA_DIR": str(data_dir),
                "JINYU_LOG_LEVEL": "WARNING",
                "JINYU_BENCH_THREADS": str(args.threads),
                "JINYU_MAX_INFLIGHT": str(args.inflight),
                "JINYU_SETTLE_BATCH": str(args.batch),
            }
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jinyu.serving",  # as `jinyu serve`: each worker its own listening socket
                    "--app-dir",
                    str(Path(__file__).resolve().parent),
                    "--factory",
                    "bench_claims:make_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--timeout-keep-alive",
                    "60",
                ],
                env=env,
                start_new_session=True,  # its own process group: the workers go with it
            )
            base = f"http://127.0.0.1:{port}"
            loadgen.wait_ready(base, proc)
            keys, certnos = world["keys"], world["certnos"]
            loadgen.run(_drive(base, keys, certnos, args.clients, args.warmup, 60, 0))
            load_before = os.getloadavg()
            calibrated_before = calibration(url)
            n = args.warmup
            capacity = _phase(
                url,
                lambda: loadgen.run(
                    _drive(base, keys, certnos, args.clients, args.requests, args.seconds, n)
                ),
                proc.pid,
            )
            n += args.requests
            at_rate = None
            if args.rate:
                count = int(args.rate * args.seconds)
                at_rate = _phase(
                    url,
                    lambda: loadgen.run(
                        _drive(base, keys, certnos, args.clients, count, args.seconds, n, rate=args.rate)
                    ),
                    proc.pid,
                )
            loadgen.stop(proc)
            proc = None
            calibrated_after = calibration(url)
            result = {
                "benchmark": "claims instant settlement (POST /api/v1/claims/settlements, PostgreSQL)",
                "targets": {"p99_ms": 50, "settlements_per_second": 300, "clients": 50},
                "config": {
                    k: getattr(args, k)
                    for k in (
                        "workers",
                        "clients",
                        "requests",
                        "seconds",
                        "warmup",
                        "hospitals",
                        "persons",
                        "threads",
                        "inflight",
                        "batch",
                        "rate",
                    )
                },
                "machine": machine_info(),
                "calibration": {"before": calibrated_before, "after": calibrated_after},
                "setup_seconds": round(setup_s, 1),
                "capacity_closed_loop": capacity,
                "at_target_rate_open_loop": (
                    {"offered_per_second": args.rate, **at_rate} if at_rate else None
                ),
                "load_average_1m": {
                    "before": round(load_before[0], 2),
                    "after": round(os.getloadavg()[0], 2),
                },
                "consistency": _check_books(url),
                "note": "load generator, uvicorn workers and PostgreSQL share the machine's 2 cores; loopback only. "
                "cpu_bound_capacity_per_second = 2 cores / CPU per settlement (server + PostgreSQL + load "
                "generator): what the machine could do with nothing else on it",
            }
    finally:
        if proc is not None:
            loadgen.stop(proc)
        _drop_database(server, name)
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / args.out
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
