"""Bounded input: request bodies over their route's limit are refused with 413 before parsing and before any
authentication work (by Content-Length, or while a chunked body streams in); pagination parameters are bounded
(422, not a database overflow); an unexpected error is a 500 problem carrying the request id of its log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.core.auth import ROLE_ORG_KINDS, ROLE_PERMISSIONS, SYSTEM, OrgKind, Role
from jinyu.core.logging import JsonFormatter
from jinyu.party import service as party_service
from jinyu.party.schemas import ServiceAccountCreate
from tests.api.test_access_walk import DECLARED
from tests.fixtures.auth import login, make_org, make_user

KIB = 1024


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        max_body_bytes=4 * KIB,
        max_ingest_upload_bytes=16 * KIB,
        max_statement_upload_bytes=8 * KIB,
    )


@pytest.fixture
def small_app(small_settings: Settings, session_factory: sessionmaker[Session]) -> Any:
    return create_app(small_settings, factory=session_factory)


@pytest.fixture
def small(small_app: Any) -> Iterator[TestClient]:
    with TestClient(small_app, raise_server_exceptions=False) as c:
        yield c


def _too_large(resp: Any, limit_text: str, limit: int) -> None:
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == "payload_too_large"
    assert body["limit_bytes"] == limit
    assert limit_text in body["detail"]
    assert body["detail"].index("请求体") < body["detail"].index("request body")  # Chinese first


def test_an_anonymous_json_body_over_the_default_limit_is_413_not_parsed_nor_401(small: TestClient) -> None:
    # before: the body was parsed (and a bad one answered 422) before the 401
    resp = small.post(
        "/api/v1/claims/eligibility",
        content=b'{"certno": "' + b"1" * (5 * KIB) + b'"}',
        headers={"content-type": "application/json"},
    )
    _too_large(resp, "4 KiB", 4 * KIB)


def test_the_default_limit_is_1_mib(client: TestClient) -> None:
    resp = client.post(
        "/api/v1/claims/eligibility",
        content=b"[" + b"1," * (600 * KIB) + b"1]",
        headers={"content-type": "application/json"},
    )
    _too_large(resp, "1 MiB", 1024 * KIB)
    under = client.post("/api/v1/claims/eligibility", json={"certno": "1"})
    assert under.status_code == 401  # under the limit: the usual answer


def _chunks(total: int, chunk: int = KIB) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        sent += chunk
        yield b" " * chunk


def test_a_chunked_body_without_content_length_is_refused_while_it_streams(small: TestClient) -> None:
    resp = small.post(
        "/api/v1/claims/eligibility", content=_chunks(64 * KIB), headers={"content-type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    _too_large(resp, "4 KiB", 4 * KIB)


async def _asgi_post(app: Any, path: str, chunks: int, chunk: int, headers: list[Any]) -> tuple[int, int]:
    """POST a body of `chunks` × `chunk` bytes without Content-Length; the status, and the chunks the app read."""
    read = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b" " * chunk, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return int(messages[0]["status"]), read


@pytest.mark.parametrize(
    "path",
    ["/api/v1/claims/settlements", "/api/v1/claims/eligibility"],  # the plain ASGI route, and a framework one
)
def test_only_the_limits_worth_of_a_streamed_body_is_read(
    small: TestClient, small_app: Any, session: Session, path: str
) -> None:
    org = make_org(session, OrgKind.HOSPITAL)
    account = party_service.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name="his", org_id=org.id, roles=[Role.HOSPITAL_SYSTEM])
    )
    session.commit()
    assert account.api_key is not None
    key = account.api_key.encode()

    async def run() -> tuple[int, int]:
        return await _asgi_post(
            small_app, path, 1000, KIB, [(b"content-type", b"application/json"), (b"x-api-key", key)]
        )

    status, read = small.portal.call(run)  # type: ignore[union-attr]
    assert status == 413
    assert read <= 5  # 4 KiB limit in 1 KiB chunks: refused at the fifth, not after the 1000th


def test_a_declared_content_length_over_the_limit_is_refused_before_the_app_runs(
    small: TestClient, small_app: Any
) -> None:
    async def run() -> tuple[int, int]:
        return await _asgi_post(
            small_app,
            "/api/v1/claims/settlements",
            1,
            10,
            [(b"content-type", b"application/json"), (b"content-length", b"999999999")],
        )

    status, read = small.portal.call(run)  # type: ignore[union-attr]
    assert (status, read) == (413, 0)


@pytest.fixture
def uploader(session: Session, small: TestClient) -> dict[str, str]:
    provider = make_user(session, make_org(session, OrgKind.BUREAU), Role.DATA_PROVIDER)
    session.commit()
    return login(small, provider.username)


def test_uploads_have_their_own_larger_limit(small: TestClient, uploader: dict[str, str]) -> None:
    files = {"file": ("x.csv", b"a,b\n" + b"1,2\n" * (2 * KIB), "text/csv")}  # 8 KiB: over the JSON limit
    resp = small.post("/api/v1/ingest/enterprises", files=files, headers=uploader)
    assert resp.status_code != 413
    files = {"file": ("x.csv", b"a,b\n" + b"1,2\n" * (5 * KIB), "text/csv")}  # 20 KiB
    _too_large(small.post("/api/v1/ingest/enterprises", files=files, headers=uploader), "16 KiB", 16 * KIB)


def test_an_upload_without_any_credential_is_held_to_the_default_limit(
    small: TestClient, uploader: dict[str, str]
) -> None:
    files = {"file": ("x.csv", b"a,b\n" + b"1,2\n" * (2 * KIB), "text/csv")}  # 8 KiB
    _too_large(small.post("/api/v1/ingest/enterprises", files=files), "4 KiB", 4 * KIB)
    assert small.post("/api/v1/ingest/enterprises", files=files, headers=uploader).status_code != 413
    tiny = {"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    assert small.post("/api/v1/ingest/enterprises", files=tiny).status_code == 401


def test_statement_uploads_are_refused_by_size_before_they_are_read(small: TestClient) -> None:
    # before: the whole upload was read (up to the parser's 32 MiB) before its 413, and after the 401 work
    files = {"file": ("s.csv", b"x" * (9 * KIB), "text/csv")}
    resp = small.post("/api/v1/risk/statements/verify", files=files, headers={"X-API-Key": "k.k"})
    _too_large(resp, "8 KiB", 8 * KIB)


def test_an_eligibility_certno_is_bounded(client: TestClient, session: Session) -> None:
    hospital = make_user(session, make_org(session, OrgKind.HOSPITAL), Role.HOSPITAL_SYSTEM)
    session.commit()
    resp = client.post(
        "/api/v1/claims/eligibility", json={"certno": "1" * 100_000}, headers=login(client, hospital.username)
    )
    assert resp.status_code == 422
    error = resp.json()["errors"][0]
    assert error["field"] == "certno" and "32" in error["message"]  # before: taken in, then checked as an ID


# ------------------------------------------------------------------------------------------------ pagination


def _list_endpoints(client: TestClient) -> list[str]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted(
        p
        for p, ops in paths.items()
        if "get" in ops and any(q.get("name") == "offset" for q in ops["get"].get("parameters", []))
    )


def test_every_list_endpoint_bounds_its_offset(client: TestClient, session: Session) -> None:
    orgs: dict[OrgKind, Any] = {}
    headers: dict[Role, dict[str, str]] = {}
    for role in Role:
        kind = next(iter(ROLE_ORG_KINDS[role]))
        if kind in (OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET):
            orgs.setdefault(OrgKind.BANK_HEAD_OFFICE, make_org(session, OrgKind.BANK_HEAD_OFFICE))
            org = make_org(session, kind, parent=orgs[OrgKind.BANK_HEAD_OFFICE])
        else:
            org = orgs.setdefault(kind, make_org(session, kind))
        user = make_user(session, org, role)
        session.commit()
        headers[role] = login(client, user.username)
    lists = _list_endpoints(client)
    assert len(lists) >= 10
    for path in lists:
        perm = DECLARED[("get", path)]
        role = next(r for r in Role if perm in ROLE_PERMISSIONS[r])
        url = path.replace("{book_id}", "none")
        for offset in (2**63, 2**64, 10**9 + 1):
            resp = client.get(url, params={"offset": offset}, headers=headers[role])
            assert resp.status_code == 422, (path, offset, resp.status_code, resp.text[:200])
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.json()["errors"][0]["field"] == "query.offset"


def test_the_audit_cursor_is_bounded(client: TestClient, session: Session) -> None:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    session.commit()
    headers = login(client, user.username)
    for cursor in ("9223372036854775808", "9999999999999999999"):  # 19 digits, over 2^63 - 1
        resp = client.get("/api/v1/audit/entries", params={"cursor": cursor}, headers=headers)
        assert resp.status_code == 422, resp.text[:200]
    ok = client.get("/api/v1/audit/entries", params={"cursor": "12345"}, headers=headers)
    assert ok.status_code == 200, ok.text[:300]


# ------------------------------------------------------------------------------------------------ 500


def test_an_unexpected_error_is_a_problem_with_the_request_id_of_its_log_line(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("something nobody expected")

    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    session.commit()
    app = create_app(settings, factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        headers = login(c, user.username)
        monkeypatch.setattr(party_service, "list_orgs", broken)
        with caplog.at_level(logging.ERROR, logger="jinyu.http"):
            resp = c.get("/api/v1/orgs", headers=headers)
            mine = c.get("/api/v1/orgs", headers={**headers, "X-Request-ID": "req-42"})
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    rid = resp.headers["x-request-id"]
    assert body["code"] == "internal_error" and body["status"] == 500
    assert body["request_id"] == rid and rid in body["detail"]
    assert "something nobody expected" not in resp.text  # the cause stays in the log
    assert mine.json()["request_id"] == "req-42" == mine.headers["x-request-id"]
    records = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [getattr(r, "request_id", None) for r in records] == [rid, "req-42"]
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == rid
    assert "something nobody expected" in line["exc"]
