"""The audit HTTP API on a minimal app wired the way core/web.py describes (the lead's app comes later)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import checkpointing, service
from jinyu.audit.anchor import anchors_for
from jinyu.audit.endpoints import router
from jinyu.config import Settings, load_settings
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.core.errors import JinyuError, NotAuthenticated
from jinyu.core.web import declared_permission
from tests.audit.factories import principal

USERS: dict[str, Principal] = {
    "supervisor": principal("supervisor"),
    "analyst": principal("analyst", role=Role.REGULATOR_ANALYST),
    "banker": principal(
        "banker",
        role=Role.BANK_HQ_RISK,
        org_kind=OrgKind.BANK_HEAD_OFFICE,
        org_id="org-bank",
        tenant_id="t-bank",
    ),
}


def _authenticate(request: Request, session: Session) -> Principal:
    user = USERS.get(request.headers.get("x-test-user", ""))
    if user is None:
        raise NotAuthenticated(detail="no test user")
    return user


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path)


@pytest.fixture
def client(session_factory: sessionmaker[Session], settings: Settings) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.sessionmaker = session_factory
    app.state.settings = settings
    app.state.authenticate = _authenticate

    @app.exception_handler(JinyuError)
    def _problem(request: Request, exc: JinyuError) -> JSONResponse:
        return JSONResponse(
            exc.problem(str(request.url.path)), exc.status, media_type="application/problem+json"
        )

    app.include_router(router, prefix="/api/v1")
    with TestClient(app) as c:
        yield c


def _get(client: TestClient, path: str, user: str | None = "supervisor", **params: Any) -> Any:
    headers = {"x-test-user": user} if user else {}
    return client.get(f"/api/v1/audit{path}", headers=headers, params=params)


@pytest.fixture
def trail(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        for action in ("party.org.read", "party.user.read", "consent.grant.create"):
            service.record(s, USERS["banker"], action=action, subject_type="thing", subject_ids=["x-1"])
        s.commit()


def test_every_route_declares_its_permission() -> None:
    declared = {
        route.path: {declared_permission(d.call) for d in route.dependant.dependencies if d.call} - {None}
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    assert declared == {
        "/audit/verify": {"audit_verify"},
        "/audit/entries": {"audit_read"},
        "/audit/checkpoints": {"audit_verify"},
    }


@pytest.mark.parametrize(
    ("path", "user", "status"),
    [
        ("/verify", None, 401),
        ("/verify", "banker", 403),
        ("/verify", "analyst", 200),
        ("/verify", "supervisor", 200),
        ("/entries", None, 401),
        ("/entries", "banker", 403),
        ("/entries", "analyst", 200),
        ("/checkpoints", None, 401),
        ("/checkpoints", "banker", 403),
        ("/checkpoints", "analyst", 200),
    ],
)
def test_permissions(client: TestClient, path: str, user: str | None, status: int) -> None:
    response = _get(client, path, user)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.usefixtures("trail")
def test_verify_reports_an_intact_chain_and_is_recorded(client: TestClient) -> None:
    body = _get(client, "/verify").json()

    assert {k: body[k] for k in ("ok", "checked", "head_seq", "first_bad_seq", "problem")} == {
        "ok": True,
        "checked": 3,
        "head_seq": 3,
        "first_bad_seq": None,
        "problem": None,
    }
    assert body["message"].startswith("审计链完整") and len(body["head_hash"]) == 64
    [entry] = _get(client, "/entries", action="audit.verify").json()["items"]
    assert entry["actor_id"] == "user-supervisor"


@pytest.mark.usefixtures("trail")
def test_verify_names_the_first_bad_entry(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        s.execute(text("UPDATE audit_entries SET subject_ids = '[\"x-2\"]' WHERE seq = 2"))
        s.commit()

    body = _get(client, "/verify").json()

    assert (body["ok"], body["problem"], body["first_bad_seq"]) == (False, "changed", 2)
    assert "seq 2" in body["message"]


@pytest.mark.usefixtures("trail")
def test_entries_filter_and_page(client: TestClient) -> None:
    first = _get(client, "/entries", action="party.*", limit=1).json()
    assert [e["action"] for e in first["items"]] == ["party.user.read"]
    assert first["limit"] == 1 and first["next_cursor"] == "2"

    second = _get(client, "/entries", action="party.*", limit=1, cursor=first["next_cursor"]).json()
    assert [e["seq"] for e in second["items"]] == [1]
    assert second["next_cursor"] is None
    assert second["items"][0]["subject_ids"] == ["x-1"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"cursor": "abc"},
        {"action": "party.*.read"},
        {"outcome": "maybe"},
        {"since": "not a time"},
        {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
        {"subject_id": "x" * 257},
    ],
)
def test_entries_reject_bad_query_parameters(client: TestClient, params: dict[str, Any]) -> None:
    assert _get(client, "/entries", **params).status_code == 422


@pytest.mark.usefixtures("trail")
def test_checkpoints_are_listed_and_verify_holds_the_chain_against_them(
    client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        checkpointing.write_checkpoint(s, anchors_for(settings))
        s.commit()

    listed = _get(client, "/checkpoints").json()
    assert (listed["ok"], listed["count"], listed["sink"], listed["problem"]) == (
        True,
        1,
        "checkpoints.jsonl",  # the file's name, never a server path
        None,
    )
    [cp] = listed["items"]
    assert (cp["n"], cp["seq"], len(cp["hash"]), len(cp["key"])) == (1, 3, 64, 16)
    assert _get(client, "/verify").json()["checkpoint"]["seq"] == 3
    [listing] = _get(client, "/entries", action="audit.checkpoint.list").json()["items"]
    assert listing["actor_id"] == "user-supervisor"

    with session_factory() as s:
        s.execute(text("DELETE FROM audit_entries WHERE seq > 2"))
        s.execute(
            text("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_entries WHERE seq = 2)")
        )
        s.commit()

    body = _get(client, "/verify").json()
    assert (body["ok"], body["problem"], body["first_bad_seq"]) == (False, "checkpoint", 3)
    assert "shorter than signed checkpoint #1" in body["message"]
