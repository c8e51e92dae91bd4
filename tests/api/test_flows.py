"""End-to-end flows through the HTTP API: login, own data, problem+json errors, audit of refusals."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from tests.fixtures.auth import PASSWORD, login, make_org, make_user


def test_login_me_and_own_organisation_only(client: TestClient, session: Session) -> None:
    head = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    user = make_user(session, head, Role.BANK_HQ_RISK)
    session.commit()
    headers = login(client, user.username)
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["organisation"]["id"] == head.id and "banking.account.read" in me["permissions"]
    orgs = client.get("/api/v1/orgs", headers=headers).json()
    assert [o["id"] for o in orgs["items"]] == [head.id]
    assert client.get(f"/api/v1/orgs/{other.id}", headers=headers).status_code == 404


def test_bad_login_is_problem_json_and_locks(client: TestClient, session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    session.commit()
    for _ in range(3):  # the fixture's settings lock after 3 failures
        resp = client.post("/api/v1/auth/token", data={"username": user.username, "password": "nope-nope"})
        assert resp.status_code == 401
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"] == "bad_credentials"
    resp = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 429 and resp.json()["code"] == "account_locked"


def test_validation_errors_name_fields(client: TestClient, session: Session) -> None:
    ops = make_org(session, OrgKind.OPERATOR)
    admin = make_user(session, ops, Role.PLATFORM_ADMIN)
    session.commit()
    headers = login(client, admin.username)
    resp = client.post(
        "/api/v1/orgs",
        headers=headers,
        json={"kind": "enterprise", "code": "91500000MA00000000", "name": "坏代码"},
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["errors"][0]["field"] == "uscc" and "校验位" in body["errors"][0]["message"]
    resp = client.post("/api/v1/users", headers=headers, json={"username": "x"})
    assert resp.status_code == 422 and {e["field"] for e in resp.json()["errors"]} >= {"username", "org_id"}


def test_consent_flow_and_refusals_are_audited(client: TestClient, session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    ent_user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    other_user = make_user(session, other, Role.BANK_HQ_RISK)
    session.commit()
    ent_h, other_h = login(client, ent_user.username), login(client, other_user.username)
    until = (utcnow() + dt.timedelta(days=90)).isoformat()
    resp = client.post(
        "/api/v1/consents",
        headers=ent_h,
        json={
            "grantee_org_id": bank.id,
            "scopes": ["tax", "headcount"],
            "purpose": "credit_assessment",
            "valid_until": until,
        },
    )
    assert resp.status_code == 201, resp.text
    grant_id = resp.json()["id"]
    assert client.get(f"/api/v1/consents/{grant_id}", headers=other_h).status_code == 404
    refused = session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == other_user.id, AuditEntry.outcome == "not_found")
    ).all()
    assert len(refused) == 1
    session.rollback()  # end the test's read: on SQLite a transaction holds the write lock from its start
    revoke = client.post(f"/api/v1/consents/{grant_id}/revoke", headers=ent_h, json={"reason": "不再需要"})
    assert revoke.status_code == 200 and revoke.json()["state"] == "revoked"


def test_health_ready_metrics_and_request_id(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
    resp = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert resp.headers["X-Request-ID"] == "abc123"
    assert "jinyu_http_requests_total" in client.get("/metrics").text
