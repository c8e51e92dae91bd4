"""Retiring a quality rule over the API: a new inactive version (the history kept), audited with its reason,
no longer applied by checks; 409 when already retired, 404 for an unknown code, 403 for a provider, 422
without a reason; a later PUT brings it back as a further version."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.auth import OrgKind, Role
from jinyu.governance.models import QualityRule
from tests.fixtures.auth import login, make_org, make_user

API = "/api/v1/governance"
CODE = "loans.term_months.range"


@pytest.fixture
def people(client: TestClient, session: Session) -> dict[str, Any]:
    operator = make_org(session, OrgKind.OPERATOR)
    bureau = make_org(session, OrgKind.BUREAU, code="BUREAU-TAX")
    users = {
        "engineer": make_user(session, operator, Role.PLATFORM_ADMIN),
        "tax": make_user(session, bureau, Role.DATA_PROVIDER),
    }
    session.commit()
    return {name: login(client, user.username) for name, user in users.items()}


def test_retire_keeps_history_audits_and_can_be_undone(
    client: TestClient, session: Session, people: dict[str, Any]
) -> None:
    engineer = people["engineer"]
    resp = client.post(
        f"{API}/rules/{CODE}/retire", json={"reason": "口径调整 / term cap moves"}, headers=engineer
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["version"], out["active"], out["source"]) == (2, False, "api")
    assert out["body"]["max"] == "360"  # the rule itself unchanged: only switched off
    listed = {
        r["code"]: r for r in client.get(f"{API}/rules", params={"dataset": "loans"}, headers=engineer).json()
    }
    assert listed[CODE]["active"] is False
    again = client.post(f"{API}/rules/{CODE}/retire", json={"reason": "twice"}, headers=engineer)
    assert again.status_code == 409 and again.json()["code"] == "rule_already_retired"
    back = client.put(f"{API}/rules/{CODE}", json=out["body"] | {"active": True}, headers=engineer)
    assert back.status_code == 200 and (back.json()["version"], back.json()["active"]) == (3, True)
    versions = session.scalars(select(QualityRule.version).where(QualityRule.code == CODE)).all()
    assert sorted(versions) == [2, 3]  # version 1 is the shipped file's
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "governance.rule.retire")).all()
    assert json.loads(entry.detail) == {
        "version": 2,
        "dataset": "loans",
        "reason": "口径调整 / term cap moves",
    }


def test_retire_problems(client: TestClient, people: dict[str, Any]) -> None:
    missing = client.post(
        f"{API}/rules/loans.nothing.here/retire", json={"reason": "x"}, headers=people["engineer"]
    )
    assert missing.status_code == 404 and missing.json()["code"] == "rule_not_found"
    denied = client.post(f"{API}/rules/{CODE}/retire", json={"reason": "x"}, headers=people["tax"])
    assert denied.status_code == 403
    empty = client.post(f"{API}/rules/{CODE}/retire", json={"reason": ""}, headers=people["engineer"])
    assert empty.status_code == 422 and "reason" in json.dumps(empty.json())
    blank = client.post(f"{API}/rules/{CODE}/retire", json={"reason": "   "}, headers=people["engineer"])
    assert blank.status_code == 422 and "reason" in json.dumps(blank.json())
