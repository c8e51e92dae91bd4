"""POST /api/v1/risk/statements/verify through the HTTP API: upload, result, problem+json refusals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from tests.fixtures.auth import login, make_org, make_user, principal

from .world import GENUINE, build_lake, csv_statement

URL = "/api/v1/risk/statements/verify"


@pytest.fixture
def headers(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    ent = make_org(session, OrgKind.ENTERPRISE, name="重庆甲科技有限公司")
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    grant = GrantCreate(grantee_org_id=bank.id, scopes=[Scope.STATEMENTS], purpose=Purpose.STATEMENT_VERIFICATION,
                        valid_until=utcnow() + dt.timedelta(days=30))  # fmt: skip
    consent.grant(session, principal(session, ent, Role.ENTERPRISE_ADMIN), grant)
    users = {
        "bank": make_user(session, bank, Role.BANK_HQ_RISK),
        "other": make_user(session, other, Role.BANK_HQ_RISK),
        "enterprise": make_user(session, ent, Role.ENTERPRISE_ADMIN),
    }
    session.commit()
    build_lake(settings.lake_dir, ent.code)
    return {name: login(client, user.username) for name, user in users.items()}


def _post(client: TestClient, headers: dict[str, str], data: bytes, **form: str) -> dict[str, object]:
    resp = client.post(URL, headers=headers, files={"file": ("statement", data)}, data=form)
    body: dict[str, object] = resp.json()
    body["_status"] = resp.status_code
    body["_type"] = resp.headers["content-type"]
    return body


def test_verify_a_statement(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    body = _post(client, headers["bank"], csv_statement(GENUINE))
    assert body["_status"] == 200, body
    assert (body["verdict"], body["format"], body["account"]) == ("genuine", "csv", "110***********0001")
    explicit = _post(client, headers["bank"], csv_statement(GENUINE), format="csv")
    assert explicit["verdict"] == "genuine" and explicit["inquiry_id"] != body["inquiry_id"]


def test_malformed_input_names_the_line_or_element(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    bad = csv_statement(GENUINE).replace(b",-3500.00,", b",-35OO.00,")
    body = _post(client, headers["bank"], bad)
    assert (body["_status"], body["code"], body["_type"]) == (
        422,
        "statement_malformed",
        "application/problem+json",
    )
    assert body["errors"] == [
        {"field": "line 11/amount", "message": "不是有效金额 / not a decimal amount: '-35OO.00'"}
    ]
    as_xml = _post(client, headers["bank"], csv_statement(GENUINE), format="camt053")
    assert as_xml["_status"] == 422 and as_xml["errors"][0]["field"] == "xml"  # type: ignore[index]
    unknown_format = _post(client, headers["bank"], csv_statement(GENUINE), format="mt940")
    assert unknown_format["_status"] == 422


def test_refusals(client: TestClient, session: Session, headers: dict[str, dict[str, str]]) -> None:
    denied = _post(client, headers["other"], csv_statement(GENUINE))
    assert (denied["_status"], denied["code"], denied["_type"]) == (
        403,
        "consent_missing",
        "application/problem+json",
    )
    unknown = _post(client, headers["bank"], csv_statement(GENUINE, account="6200000000000000000"))
    assert (unknown["_status"], unknown["code"]) == (404, "account_not_found")
    not_a_bank = _post(client, headers["enterprise"], csv_statement(GENUINE))
    assert not_a_bank["_status"] == 403 and not_a_bank["code"] == "permission_denied"
    assert client.post(URL, files={"file": ("s", b"x")}).status_code == 401
    outcomes = [
        (e.outcome, json.loads(e.detail or "{}").get("code"))
        for e in session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "route"))
    ]
    assert ("denied", "consent_missing") in outcomes and ("not_found", "account_not_found") in outcomes
