"""The purpose matrix over the API: read by banks and regulators, changed only by a supervisor, versioned,
refused when stale or incomplete, audited, and applied to the next misuse check with the line it used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user
from tests.risk.tracing.lake import golden_rows, write

BASE = "/api/v1/risk"


@pytest.fixture
def headers(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    h1 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    regulator = make_org(session, OrgKind.REGULATOR)
    users = {
        "hq": make_user(session, h1, Role.BANK_HQ_RISK),
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
    }
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    return {name: login(client, user.username) for name, user in users.items()}


def _edited(matrix: dict[str, Any], purpose: str, kind: str, prohibited: bool) -> list[dict[str, Any]]:
    out = []
    for e in matrix["entries"]:
        line = {"purpose": e["purpose"], "kind": e["kind"], "prohibited": e["prohibited"]}
        if (e["purpose"], e["kind"]) == (purpose, kind):
            line["prohibited"] = prohibited
        out.append(line)
    return out


def test_the_built_in_matrix_is_in_force_until_a_version_is_stored(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = client.get(f"{BASE}/purpose-matrix", headers=headers["hq"]).json()
    assert (body["version"], body["source"], len(body["purposes"]), len(body["entries"])) == (
        0,
        "built_in",
        13,
        65,
    )
    line = next(e for e in body["entries"] if e["rule"] == "refinancing×other_loan")
    assert line["prohibited"] is False
    misuse = client.get(f"{BASE}/loans/L2/misuse", headers=headers["hq"]).json()  # purpose: equipment
    assert misuse["purpose_matrix_version"] == 0
    cited = {x["kind"]: (x["prohibited_for_purpose"], x["rule"]) for x in misuse["by_category"]}
    assert cited["other_loan"] == (True, "purpose-matrix v0: equipment×other_loan")
    assert misuse["misused_amount"] == "510000.00"  # shell 300,000 + other loan 200,000 + intermediary 10,000


def test_a_supervisor_stores_a_version_that_the_next_check_applies(
    client: TestClient, headers: dict[str, dict[str, str]], session: Session
) -> None:
    matrix = client.get(f"{BASE}/purpose-matrix", headers=headers["supervisor"]).json()
    entries = _edited(matrix, "equipment", "other_loan", False)
    put = client.put(
        f"{BASE}/purpose-matrix",
        headers=headers["supervisor"],
        json={"base_version": 0, "note": "设备贷款可置换设备按揭 / equipment loans may repay equipment mortgages",
              "entries": entries},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["source"]) == (1, "stored")
    misuse = client.get(f"{BASE}/loans/L2/misuse", headers=headers["hq"]).json()
    cited = {x["kind"]: (x["prohibited_for_purpose"], x["rule"]) for x in misuse["by_category"]}
    assert cited["other_loan"] == (False, "purpose-matrix v1: equipment×other_loan")
    assert (misuse["purpose_matrix_version"], misuse["misused_amount"]) == (1, "310000.00")
    assert (
        client.get(f"{BASE}/purpose-matrix", params={"version": 0}, headers=headers["hq"]).json()["version"]
        == 0
    )
    # The same edit again, still based on version 0, is stale now.
    stale = client.put(
        f"{BASE}/purpose-matrix", headers=headers["supervisor"],
        json={"base_version": 0, "note": "again", "entries": entries},
    )  # fmt: skip
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert (stale.json()["code"], stale.json()["current_version"]) == ("purpose_matrix_version_stale", 1)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "risk.purpose_matrix.update")).all()
    changes = [(json.loads(e.subject_ids), json.loads(e.detail or "{}")["changed"]) for e in audit]
    assert changes == [(["1"], ["equipment×other_loan"])]


def test_refusals(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    matrix = client.get(f"{BASE}/purpose-matrix", headers=headers["analyst"]).json()
    body = {"base_version": 0, "note": "x", "entries": _edited(matrix, "trade", "shell", False)}
    assert client.put(f"{BASE}/purpose-matrix", headers=headers["hq"], json=body).status_code == 403
    assert client.put(f"{BASE}/purpose-matrix", headers=headers["analyst"], json=body).status_code == 403
    assert client.put(f"{BASE}/purpose-matrix", json=body).status_code == 401
    short = client.put(
        f"{BASE}/purpose-matrix", headers=headers["supervisor"], json=body | {"entries": body["entries"][1:]}
    )
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["entries"]
    assert "working_capital×securities" in short.json()["errors"][0]["message"]
    unknown = body | {
        "entries": [*body["entries"], {"purpose": "mining", "kind": "shell", "prohibited": True}]
    }
    bad = client.put(f"{BASE}/purpose-matrix", headers=headers["supervisor"], json=unknown)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "entries[65].purpose"
    missing = client.get(f"{BASE}/purpose-matrix", params={"version": 9}, headers=headers["hq"])
    assert missing.status_code == 404 and missing.json()["code"] == "purpose_matrix_version_not_found"
