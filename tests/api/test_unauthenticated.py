"""401 answers through the real app: forged tokens and bad API keys are audited (at most one entry per client
address per interval, with the count of those left out) and counted in /metrics by reason."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

ACTION = "auth.credential.rejected"


def _forged_token() -> str:
    now = int(time.time())
    claims = {"sub": "user-x", "iss": "jinyu", "iat": now, "exp": now + 600}
    return jwt.encode(claims, "an attacker's key, not the platform's: 0123456789", algorithm="HS256")


def _rejections(session: Session) -> list[AuditEntry]:
    session.rollback()  # a fresh snapshot
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.at, AuditEntry.seq)
        )
    )
    session.commit()  # end the read: on SQLite a transaction holds the write lock from its start
    return entries


def _detail(entry: AuditEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(entry.detail or "{}")
    return value


def _unauthenticated(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "jinyu_http_unauthenticated"
        for sample in family.samples
        if sample.name == "jinyu_http_unauthenticated_total"
    }


def test_a_forged_token_is_audited_and_counted(client: TestClient, session: Session) -> None:
    before = _unauthenticated(client)
    assert before == {r: 0.0 for r in ("bad_token", "bad_api_key", "no_credential", "bad_password", "other")}

    resp = client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {_forged_token()}"})

    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"
    [entry] = _rejections(session)
    assert (entry.actor_id, entry.outcome, entry.subject_type) == ("anonymous", "denied", "route")
    assert json.loads(entry.subject_ids) == ["/api/v1/orgs"]
    detail = _detail(entry)
    assert {k: detail[k] for k in ("reason", "code", "method", "client", "suppressed")} == {
        "reason": "bad_token",
        "code": "invalid_token",
        "method": "GET",
        "client": "testclient",
        "suppressed": 0,
    }
    assert _unauthenticated(client)["bad_token"] == 1.0


def test_a_bad_api_key_is_audited_and_counted(client: TestClient, session: Session) -> None:
    resp = client.get("/api/v1/claims/products", headers={"X-API-Key": "nokey.notasecret"})

    assert resp.status_code == 401
    [entry] = _rejections(session)
    assert _detail(entry)["reason"] == "bad_api_key"
    assert json.loads(entry.subject_ids) == ["/api/v1/claims/products"]
    counts = _unauthenticated(client)
    assert (counts["bad_api_key"], counts["bad_token"]) == (1.0, 0.0)


def test_a_flood_writes_one_entry_per_address_and_interval(client: TestClient, session: Session) -> None:
    now = [time.monotonic()]
    client.app.state.unauthenticated.gate.clock = lambda: now[0]  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {_forged_token()}"}

    for _ in range(30):
        assert client.get("/api/v1/me", headers=headers).status_code == 401

    assert len(_rejections(session)) == 1
    assert _unauthenticated(client)["bad_token"] == 30.0

    now[0] += 61  # the fixture's interval is the default, 60 s
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    first, second = _rejections(session)
    assert (_detail(first)["suppressed"], _detail(second)["suppressed"]) == (0, 29)


def test_a_wrong_password_is_counted_and_left_to_the_login_audit(
    client: TestClient, session: Session
) -> None:
    org = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, org, Role.ENTERPRISE_ADMIN)
    session.commit()

    resp = client.post("/api/v1/auth/token", data={"username": user.username, "password": "wrong-wrong"})

    assert resp.status_code == 401
    assert _unauthenticated(client)["bad_password"] == 1.0
    assert _rejections(session) == []
    session.rollback()
    assert session.scalar(select(AuditEntry.outcome).where(AuditEntry.action == "auth.login")) == "failed"


@pytest.mark.parametrize("path", ["/api/v1/audit/verify", "/api/v1/claims/settlements"])
def test_no_credential_is_audited_too(client: TestClient, session: Session, path: str) -> None:
    method = client.post if path.endswith("settlements") else client.get
    assert method(path).status_code == 401
    [entry] = _rejections(session)
    assert _detail(entry)["reason"] == "no_credential"
    assert _unauthenticated(client)["no_credential"] == 1.0


def test_the_audit_names_a_nested_route_by_its_full_template(client: TestClient, session: Session) -> None:
    """Routes of included routers (risk → tracing) appear in the scope without their prefixes; the 401 entry and
    a refusal's entry name the full template, as the API description does, never the path as sent."""
    assert client.get("/api/v1/risk/loans/L-ANY/return-flow").status_code == 401
    [entry] = _rejections(session)
    assert json.loads(entry.subject_ids) == ["/api/v1/risk/loans/{loan_id}/return-flow"]
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    user = make_user(session, bank, Role.BANK_HQ_RISK)
    session.commit()
    headers = login(client, user.username)
    assert client.get("/api/v1/risk/loans/L-NOT-HERE/misuse", headers=headers).status_code == 404
    session.rollback()
    refusal = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "http.get", AuditEntry.outcome == "not_found")
    ).one()
    session.commit()
    assert json.loads(refusal.detail or "{}")["route"] == "/api/v1/risk/loans/{loan_id}/misuse"
