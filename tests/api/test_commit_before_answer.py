"""A 2xx means committed: the app served by a real server over a socket, as a hospital system or a bank meets it.

In-process test clients wait for the whole application, dependency clean-up included, before they hand back the
response, so they cannot see an answer that leaves before its transaction commits. Here uvicorn serves the app
on a loopback port and every request is an HTTP request on a real connection; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import PASSWORD, make_org, make_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _served(settings: Settings, factory: sessionmaker[Session]) -> Iterator[str]:
    """The app under uvicorn in a thread (lifespan included: the audit sealer runs as in production)."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, factory=factory), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def admin_client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[httpx.Client]:
    with session_factory() as session:
        ops = make_org(session, OrgKind.OPERATOR)
        admin = make_user(session, ops, Role.PLATFORM_ADMIN)
        session.commit()
        username = admin.username
    with _served(settings, session_factory) as base, httpx.Client(base_url=base, timeout=60) as client:
        resp = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        yield client


def test_a_created_object_is_there_for_the_very_next_request(admin_client: httpx.Client) -> None:
    for n in range(40):
        created = admin_client.post(
            "/api/v1/orgs", json={"kind": "insurer", "code": f"INSCB{n:04d}", "name": f"保险公司 {n}"}
        )
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        seen = admin_client.get(f"/api/v1/orgs/{org_id}")
        assert seen.status_code == 200, f"request {n}: created, then {seen.status_code} {seen.text}"


AUDITED_READS = ("/api/v1/users", "/api/v1/orgs", "/api/v1/me")


def test_back_to_back_audited_reads_never_fail(admin_client: httpx.Client) -> None:
    statuses = Counter(admin_client.get(AUDITED_READS[n % 3]).status_code for n in range(200))
    assert statuses == Counter({200: 200})


def test_concurrent_audited_requests_queue_instead_of_failing(admin_client: httpx.Client) -> None:
    """Two clients of 100 requests each at once, reads and writes mixed: every one answered 2xx."""

    def run(client_no: int) -> Counter[int]:
        seen: Counter[int] = Counter()
        with httpx.Client(
            base_url=str(admin_client.base_url), headers=admin_client.headers, timeout=60
        ) as client:
            for n in range(100):
                if n % 10 == 0:
                    resp = client.post(
                        "/api/v1/orgs",
                        json={
                            "kind": "insurer",
                            "code": f"INSC{client_no}{n:03d}",
                            "name": f"并发 {client_no}-{n}",
                        },
                    )
                else:
                    resp = client.get(AUDITED_READS[n % 3])
                seen[resp.status_code] += 1
        return seen

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, (1, 2)))
    total = results[0] + results[1]
    assert total == Counter({200: 180, 201: 20}), total
