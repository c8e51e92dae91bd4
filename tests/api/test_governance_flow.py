"""Data governance as its users meet it over the API: a data engineer adds a rule, a provider's file with
defects raises the anomaly rate with the rule behind it, the provider sees only its own remediation items,
resubmits the corrected records, and the rate falls. Expected figures are counted by hand from the rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.api.test_ingest_security import csv_bytes, load
from tests.fixtures.auth import login, make_org, make_user, resident_id, uscc

API = "/api/v1/governance"
COMPANIES = [uscc(9100 + i) for i in range(6)]


def enterprise(code: str) -> dict[str, str]:
    return {
        "uscc": code, "name": f"企业{code[-4:]}", "industry_code": "C3974", "district_code": "500103",
        "registered_capital": "1000000.00", "established_on": "2018-05-01", "address": "渝中区1号",
        "phone": "", "legal_rep_id": resident_id(seq=int(code[-3:-1])), "legal_rep_name": "张三",
        "status": "active",
    }  # fmt: skip


def tax(code: str, sales: str, paid: str, period: str = "2026-10") -> dict[str, str]:
    return {"uscc": code, "period": period, "sales_declared": sales, "tax_paid": paid}


# Six records of October: two pay more tax than they declared in sales (standard rule), one pays 200,000 yuan
# (the engineer's new cap of 100,000), one has a negative tax amount (refused by ingestion: outstanding).
GOOD = [tax(COMPANIES[0], "500000.00", "15000.00"), tax(COMPANIES[1], "800000.00", "24000.00")]
OVER = [tax(COMPANIES[2], "1000.00", "3000.00"), tax(COMPANIES[3], "0.00", "10.00")]
BIG = [tax(COMPANIES[4], "9000000.00", "200000.00")]
NEGATIVE = [tax(COMPANIES[5], "5000.00", "-1.00")]
CAP_RULE = {
    "code": "tax_monthly.tax_paid.cap",
    "dataset": "tax_monthly",
    "kind": "range",
    "column": "tax_paid",
    "max": "100000",
    "title": "单月实缴税额不超过 10 万元 / tax paid at most 100,000 yuan a month",
}


@pytest.fixture
def people(client: TestClient, session: Session, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    load(session, settings, tmp_path, "enterprises", [enterprise(c) for c in COMPANIES])
    tax_bureau = make_org(session, OrgKind.BUREAU, code="BUREAU-TAX")
    samr = make_org(session, OrgKind.BUREAU, code="BUREAU-SAMR")
    regulator = make_org(session, OrgKind.REGULATOR)
    operator = make_org(session, OrgKind.OPERATOR)
    users = {
        "tax": make_user(session, tax_bureau, Role.DATA_PROVIDER),
        "samr": make_user(session, samr, Role.DATA_PROVIDER),
        "regulator": make_user(session, regulator, Role.REGULATOR_ANALYST),
        "engineer": make_user(session, operator, Role.PLATFORM_ADMIN),
    }
    session.commit()
    return {name: login(client, user.username) for name, user in users.items()}


def upload(client: TestClient, headers: dict[str, str], rows: list[dict[str, str]]) -> dict[str, Any]:
    files = {"file": ("tax_monthly.csv", csv_bytes("tax_monthly", rows), "text/csv")}
    resp = client.post("/api/v1/ingest/tax_monthly", files=files, headers=headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def october(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    resp = client.get(f"{API}/report", params={"provider": "BUREAU-TAX"}, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    [point] = [p for p in body["trend"] if p["period"] == "2026-10"]
    return {"point": point, "rules": {r["rule_code"]: r["failed"] for r in body["rules"]}}


def test_rule_defects_remediation_and_a_falling_rate(
    client: TestClient, session: Session, people: dict[str, Any]
) -> None:
    report = upload(client, people["tax"], GOOD + OVER + BIG + NEGATIVE)
    assert (report["accepted"], report["rejected"]) == (5, 1)
    # The upload's post-load check ran after the answer: 2 over + 1 refused of 6 records.
    before = october(client, people["regulator"])
    assert before["point"]["checked"] == 6 and before["point"]["anomalous"] == 3
    assert Decimal(before["point"]["anomaly_rate_pct"]) == Decimal("50.0000")

    # The engineer adds a rule (audited) and checks again: the big payment counts now.
    resp = client.put(f"{API}/rules/{CAP_RULE['code']}", json=CAP_RULE, headers=people["engineer"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == 1 and resp.json()["category"] == "validity"
    resp = client.post(f"{API}/checks", json={"dataset": "tax_monthly"}, headers=people["engineer"])
    assert resp.status_code == 201, resp.text
    after = october(client, people["regulator"])
    assert (after["point"]["checked"], after["point"]["anomalous"]) == (6, 4)
    assert Decimal(after["point"]["anomaly_rate_pct"]) == Decimal("66.6667")
    assert after["rules"] == {
        "tax_monthly.tax_within_sales.expression": 2,
        "tax_monthly.tax_paid.cap": 1,
        "ingest.below_min": 1,
    }

    # The tax bureau sees its own items; another provider sees none and gets 404 for them.
    mine = client.get(f"{API}/remediation", headers=people["tax"]).json()
    assert {i["provider"] for i in mine} == {"BUREAU-TAX"} and len(mine) == 3
    assert client.get(f"{API}/remediation", headers=people["samr"]).json() == []
    refused = next(i for i in mine if i["rule_code"].startswith("ingest."))
    assert client.get(f"{API}/remediation/{refused['id']}", headers=people["samr"]).status_code == 404
    assert (
        client.post(
            f"{API}/remediation/{refused['id']}/respond", json={"response": "x"}, headers=people["samr"]
        ).status_code
        == 404
    )
    # A provider may not assign; the engineer does, the provider answers.
    assert (
        client.post(f"{API}/remediation/{refused['id']}/assign", json={}, headers=people["tax"]).status_code
        == 403
    )
    resp = client.post(
        f"{API}/remediation/{refused['id']}/assign", json={"assignee": "王工"}, headers=people["engineer"]
    )
    assert resp.json()["status"] == "assigned"
    resp = client.post(
        f"{API}/remediation/{refused['id']}/respond", json={"response": "税额录入符号错误，已更正重报"},
        headers=people["tax"],
    )  # fmt: skip
    assert resp.json()["status"] == "fixed"

    # The corrected record arrives; the post-load check cures the refusal and verifies the item.
    upload(client, people["tax"], [tax(COMPANIES[5], "5000.00", "150.00")])
    fallen = october(client, people["regulator"])
    assert (fallen["point"]["checked"], fallen["point"]["anomalous"]) == (6, 3)
    assert Decimal(fallen["point"]["anomaly_rate_pct"]) == Decimal("50.0000")
    item = client.get(f"{API}/remediation/{refused['id']}", headers=people["tax"]).json()
    assert item["status"] == "verified" and item["failed_now"] == 0
    moves = client.get(f"{API}/remediation/{refused['id']}/events", headers=people["tax"]).json()
    assert [m["to"] for m in moves] == ["open", "assigned", "fixed", "verified"]
    png = client.get(f"{API}/report/chart", params={"format": "png"}, headers=people["regulator"])
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = client.get(f"{API}/report/chart", headers=people["tax"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("governance.%"))).all()
    assert {"governance.rule.put", "governance.check", "governance.remediation"} <= set(audited)


def test_problem_answers_for_bad_rules_and_missing_rights(client: TestClient, people: dict[str, Any]) -> None:
    bad = CAP_RULE | {"max": "a lot", "code": "tax_monthly.tax_paid.bad"}
    resp = client.put(f"{API}/rules/tax_monthly.tax_paid.bad", json=bad, headers=people["engineer"])
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    assert any(f["field"] == "max" for f in resp.json()["errors"])
    sneaky = CAP_RULE | {"kind": "expression", "condition": "tax_paid < (SELECT 1)", "max": None}
    resp = client.put(f"{API}/rules/{CAP_RULE['code']}", json=sneaky, headers=people["engineer"])
    assert resp.status_code == 422 and "condition" in str(resp.json()["errors"])
    assert (
        client.put(f"{API}/rules/{CAP_RULE['code']}", json=CAP_RULE, headers=people["tax"]).status_code == 403
    )
    assert client.post(f"{API}/checks", json={}, headers=people["regulator"]).status_code == 403
    assert client.get(f"{API}/report").status_code == 401
