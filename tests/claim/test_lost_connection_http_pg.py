"""Lost database connections through the HTTP app (PostgreSQL): a server on a real socket settles discharges
while the service's connections are terminated again and again. Every request ends 201 or 503
(problem+json, `Retry-After`) — never a 500, never a dropped connection — and the retries of the 503s settle
each message exactly once. Any other route answers a lost connection with the same 503."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.claim.schemas import SettleIn
from jinyu.config import Settings, load_settings
from jinyu.core import db
from jinyu.party.models import User
from tests.claim.factories import KEY
from tests.claim.lost import hospital, settled_once
from tests.fixtures.auth import login, resident_id
from tests.fixtures.pgfaults import Killer, killed_at_checkout, serving_requests

pytestmark = pytest.mark.postgres
PATH = "/api/v1/claims/settlements"
ROUND = 40  # discharges sent at once
ROUNDS = 6  # at most; fewer once enough requests met a lost connection
ENOUGH_503 = 3
RETRIES = 30


def settings_for(tmp_path: Path, **changes: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "data", pseudonym_key=KEY.decode(), **changes)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a real socket (its own thread and event loop); the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    until = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < until, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def post_all(base: str, api_key: str, bills: list[SettleIn]) -> list[httpx.Response | BaseException]:
    """Every bill at once, each on a connection of its own."""

    async def at_once() -> list[httpx.Response | BaseException]:
        limits = httpx.Limits(max_connections=len(bills), max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=base, headers={"X-API-Key": api_key}, timeout=120, limits=limits
        ) as client:
            return await asyncio.gather(
                *(client.post(PATH, json=body_of(d)) for d in bills), return_exceptions=True
            )

    return asyncio.run(at_once())


def body_of(bill: SettleIn) -> dict[str, Any]:
    return bill.model_dump(mode="json") | {"certno": bill.certno.get_secret_value()}


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    body = r.json()
    assert body["status"] == 503 and body["code"] in ("database_unavailable", "overloaded"), body


def check(msg_id: str, answer: httpx.Response | BaseException) -> httpx.Response:
    """201; 503 problem+json with Retry-After; or 200 `Idempotent-Replayed` — the settlement committed but
    its connection went before the answer (the discharge, settled alone, finds it). Nothing else."""
    assert isinstance(answer, httpx.Response), f"{msg_id}: no answer: {answer!r}"  # a dropped connection
    if answer.status_code == 503:
        assert_unavailable(answer)
    elif answer.status_code == 200:
        assert answer.headers.get("idempotent-replayed") == "true", answer.text
    else:
        assert answer.status_code == 201, f"{msg_id}: {answer.status_code} {answer.text}"
    return answer


def test_settlements_while_connections_are_terminated_end_201_or_503_and_retries_settle_once(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, tmp_path: Path
) -> None:
    h = hospital(pg_factory, ROUND * ROUNDS)
    bills = {b.msg_id: b for b in (h.bill(n) for n in range(ROUND * ROUNDS))}
    latest: dict[str, httpx.Response] = {}
    unavailable = 0
    app = create_app(settings_for(tmp_path), factory=db.make_sessionmaker(service_engine))
    with served(app) as base:
        known = httpx.get(f"{base}{PATH}", headers={"X-API-Key": h.api_key})  # the key is known from now on
        assert known.status_code == 200, known.text
        for r in range(ROUNDS):
            todo = list(bills.values())[r * ROUND : (r + 1) * ROUND]
            # a kill every 20 ms: with 100 ms, a fast machine settled a round of 40 before the first kill (CI)
            with killer.repeatedly(pause=0.02):
                got = post_all(base, h.api_key, todo)
            for d, answer in zip(todo, got, strict=True):
                latest[d.msg_id] = check(d.msg_id, answer)
                unavailable += answer.status_code == 503  # type: ignore[union-attr]
            if unavailable >= ENOUGH_503:
                break
        assert killer.terminated > 0 and unavailable > 0, "no request met a lost connection: nothing tested"

        # The hospital retries each 503 with the same message (no more terminations; the pool may still hold
        # connections terminated before: those requests answer 503 again, and are retried again).
        for _ in range(RETRIES):
            again = [bills[m] for m, a in latest.items() if a.status_code == 503]
            if not again:
                break
            for d, answer in zip(again, post_all(base, h.api_key, again), strict=True):
                latest[d.msg_id] = check(d.msg_id, answer)
    assert {a.status_code for a in latest.values()} <= {200, 201}, "every message answered in the end"

    ids = settled_once(pg_factory, h, set(latest))  # each exactly once: ledger, accumulators, settlements
    assert {m: a.json()["id"] for m, a in latest.items()} == ids
    assert {a.json()["payout"] for a in latest.values()} == {"4200.00"}


def test_a_lost_connection_on_any_route_answers_503(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, tmp_path: Path
) -> None:
    """Authentication's query, a read route's query, a write route's: each loses its connection once."""
    h = hospital(pg_factory, 1)
    app = create_app(
        settings_for(tmp_path, audit_journal=False), factory=db.make_sessionmaker(service_engine)
    )
    headers = {"X-API-Key": h.api_key}
    with TestClient(app, raise_server_exceptions=False) as client:
        with killed_at_checkout(service_engine, killer, lambda n: n == 1, serving_requests) as hit:
            lost_at_login = client.get(PATH, headers=headers)  # the key is not known yet: a query
        assert hit == [1]
        assert_unavailable(lost_at_login)
        assert lost_at_login.json()["code"] == "database_unavailable"
        assert client.get(PATH, headers=headers).status_code == 200  # a new connection: answered

        with killed_at_checkout(service_engine, killer, lambda n: n == 1, serving_requests) as hit:
            lost_reading = client.get(PATH, headers=headers)
        assert hit == [1]
        assert_unavailable(lost_reading)

        staff = login(client, username_of(pg_factory, h.w.insurer_staff.subject_id))
        enroll = {"product_code": h.w.product_code, "certno": resident_id(seq=999)}
        with killed_at_checkout(service_engine, killer, lambda n: n == 1, serving_requests) as hit:
            lost_writing = client.post("/api/v1/claims/enrollments", json=enroll, headers=staff)
        assert hit == [1]
        assert_unavailable(lost_writing)
        assert client.post("/api/v1/claims/enrollments", json=enroll, headers=staff).status_code == 201

        # a refusal is audited in a transaction of its own: lost, the refusal cannot be recorded
        with killed_at_checkout(service_engine, killer, lambda n: n == 1, serving_requests) as hit:
            lost_auditing = client.post("/api/v1/claims/enrollments", json=enroll, headers=headers)
        assert hit == [1]
        assert_unavailable(lost_auditing)
        assert client.post("/api/v1/claims/enrollments", json=enroll, headers=headers).status_code == 403

        # the same on the settlement route (served without the framework's routing): its token checked (1),
        # the refusal's audit (2) loses its connection
        bill = body_of(h.bill(0))
        with killed_at_checkout(service_engine, killer, lambda n: n == 2, serving_requests) as hit:
            lost_refusing = client.post(PATH, json=bill, headers=staff)
        assert hit == [2]
        assert_unavailable(lost_refusing)
        assert client.post(PATH, json=bill, headers=staff).status_code == 403


def username_of(factory: sessionmaker[Session], user_id: str) -> str:
    with db.transaction(factory) as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.username
