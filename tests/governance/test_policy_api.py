"""The policy on the read paths, as clients see it: a level-5 read fails without a supervisor's approval on the
grant and succeeds with it (audited with the approval's id); the same account seen by four roles."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Lake
from jinyu.app import create_app
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from tests.analytics.tables import load
from tests.fixtures.auth import login, make_org, make_user
from tests.fixtures.committed import session, session_factory

__all__ = ["session", "session_factory"]

API = "/api/v1"
MONTH = "2026-06"


@pytest.fixture
def world(settings: Settings, session: Session, session_factory: sessionmaker[Session]) -> Iterator[dict]:
    ent = make_org(session, OrgKind.ENTERPRISE)
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    regulator = make_org(session, OrgKind.REGULATOR)
    users = {
        "ent": make_user(session, ent, Role.ENTERPRISE_ADMIN),
        "bank": make_user(session, bank, Role.BANK_HQ_RISK),
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
    }
    session.commit()
    lake = Lake(settings.lake_dir)
    load(lake, "tax_monthly", [
        {"uscc": ent.code, "period": "2026-05", "sales_declared": "1000.00", "tax_paid": "130.00"},
        {"uscc": ent.code, "period": "2026-06", "sales_declared": "2000.00", "tax_paid": "260.00"},
    ])  # fmt: skip
    load(lake, "headcount_monthly", [{"uscc": ent.code, "period": "2026-06", "social_insurance_count": 12}])
    load(
        lake,
        "patents",
        [{"patent_no": "P1", "uscc": ent.code, "kind": "invention", "filed_on": "2025-01-02"}],
    )
    load(lake, "judicial", [{"case_no": "C1", "uscc": "x", "status": "open", "filed_on": "2025-01-02"}])
    load(lake, "banks", [{"org_code": bank.code, "name": "某银行", "level": "head_office"}])
    load(lake, "accounts", [
        {"account_no": "6222020200112233445", "bank_code": bank.code, "owner_type": "enterprise",
         "owner_id": ent.code, "owner_name": "重庆某某科技有限公司", "category": "basic",
         "opened_on": "2020-01-02", "currency": "CNY"},
    ])  # fmt: skip
    app = create_app(settings, factory=session_factory)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield {
            "client": client,
            "ent": ent,
            "bank": bank,
            "h": {k: login(client, u.username) for k, u in users.items()},
        }
        # End the test's own read transaction before the app shuts down: its sealer writes a last audit
        # checkpoint then, and on SQLite that write waited out the 30 s busy timeout behind the open read.
        session.rollback()


def _grant(world: dict) -> str:
    client, h = world["client"], world["h"]
    resp = client.post(
        f"{API}/consents",
        headers=h["ent"],
        json={
            "grantee_org_id": world["bank"].id,
            "scopes": ["registration", "tax", "headcount", "patents", "judicial"],
            "purpose": "credit_assessment",
            "valid_until": (utcnow() + dt.timedelta(days=180)).isoformat(),
        },
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _summary(world: dict, who: str) -> dict:
    resp = world["client"].get(
        f"{API}/enterprises/{world['ent'].code}/gov-summary",
        headers=world["h"][who],
        params={"purpose": "credit_assessment", "as_of_month": MONTH},
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_level5_tax_needs_a_supervisors_approval_on_the_grant(world: dict, session: Session) -> None:
    grant_id = _grant(world)
    before = _summary(world, "bank")
    assert (before["tax_months"], before["tax_paid_12m"], before["sales_declared_12m"]) == (None, None, None)
    assert before["social_insurance_count"] == 12 and before["invention_patents"] == 1  # level 3: in clear
    # The enterprise itself and the regulator see level 5 without any approval.
    assert _summary(world, "ent")["tax_months"] == 2
    assert _summary(world, "analyst")["tax_paid_12m"] == "390.00"

    client, h = world["client"], world["h"]
    body = {
        "level": 5,
        "reason": "贷前审查需纳税明细",
        "valid_until": (utcnow() + dt.timedelta(days=30)).isoformat(),
    }
    assert (
        client.post(f"{API}/consents/{grant_id}/approvals", headers=h["analyst"], json=body).status_code
        == 403
    )
    assert (
        client.post(f"{API}/consents/{grant_id}/approvals", headers=h["bank"], json=body).status_code == 403
    )
    made = client.post(f"{API}/consents/{grant_id}/approvals", headers=h["supervisor"], json=body)
    assert made.status_code == 201, made.text
    approval = made.json()
    assert (
        approval["level"] == 5 and approval["in_force"] is True and approval["policy_version"] == "v2026.12.9"
    )

    after = _summary(world, "bank")
    assert (after["tax_months"], after["tax_paid_12m"], after["sales_declared_12m"]) == (
        2,
        "390.00",
        "3000.00",
    )
    listed = client.get(f"{API}/consents/{grant_id}/approvals", headers=h["bank"])
    assert [a["id"] for a in listed.json()] == [approval["id"]]

    session.rollback()
    reads = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "govdata.summary.read").order_by(AuditEntry.at)
    ).all()
    details = [json.loads(e.detail or "{}") for e in reads]
    bank_reads = [d for d in details if d.get("basis") == grant_id]
    assert [d["approval_id"] for d in bank_reads] == [None, approval["id"]]
    assert bank_reads[0]["withheld"] == ["enterprise_tax"] and bank_reads[1]["withheld"] == []


def test_an_approval_is_time_boxed_and_checked(world: dict) -> None:
    grant_id = _grant(world)
    client, sup = world["client"], world["h"]["supervisor"]
    url = f"{API}/consents/{grant_id}/approvals"
    too_long = {
        "level": 5,
        "reason": "贷前审查",
        "valid_until": (utcnow() + dt.timedelta(days=91)).isoformat(),
    }
    resp = client.post(url, headers=sup, json=too_long)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "valid_until"
    bad_level = {
        "level": 3,
        "reason": "贷前审查",
        "valid_until": (utcnow() + dt.timedelta(days=9)).isoformat(),
    }
    assert client.post(url, headers=sup, json=bad_level).status_code == 422
    assert client.post(f"{API}/consents/nope/approvals", headers=sup, json=too_long).status_code == 404
    # A grant revoked by the enterprise takes no approval.
    assert client.post(
        f"{API}/consents/{grant_id}/revoke", headers=world["h"]["ent"], json={"reason": "不再需要"}
    )
    ok = {"level": 5, "reason": "贷前审查", "valid_until": (utcnow() + dt.timedelta(days=9)).isoformat()}
    assert client.post(url, headers=sup, json=ok).status_code == 409


def test_the_same_account_as_each_role_sees_it(world: dict) -> None:
    client, h = world["client"], world["h"]
    bank_code = world["bank"].code

    def first(who: str) -> dict:
        resp = client.get(f"{API}/banking/accounts", headers=h[who], params={"bank_code": bank_code})
        assert resp.status_code == 200, resp.text
        return dict(resp.json()["items"][0])

    for who in ("bank", "ent"):
        row = first(who)
        assert row["account_no"] == "6222020200112233445"
        assert row["owner_name"] == "重庆某某科技有限公司"  # an enterprise's name is not a person's
    # Regulators do not list accounts at all (no banking.account.read).
    assert (
        client.get(
            f"{API}/banking/accounts", headers=h["analyst"], params={"bank_code": bank_code}
        ).status_code
        == 403
    )
