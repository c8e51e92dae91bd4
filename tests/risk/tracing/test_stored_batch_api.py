"""Stored batch checks over the API (/api/v1/risk/batches): a batch run over the API is kept for the bank,
listed, read whole and downloaded as CSV without running again; audited; the head office sees its branch's,
another bank and a sibling branch get 404, a role without risk queries 403."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import golden_rows, write

BASE = "/api/v1/risk/batches"
PERIOD = {"from_date": "2024-03-01", "to_date": "2024-03-31"}


def _audited(session: Session, action: str) -> list[list[str]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry.subject_ids).where(AuditEntry.action == action)).all()
    session.rollback()
    return [json.loads(ids) for ids in rows]


def test_stored_batches_are_listed_read_and_downloaded_within_the_bank(
    client: TestClient, session: Session, settings: Settings
) -> None:
    hq = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=hq, code="B1")
    sibling = make_org(session, OrgKind.BANK_BRANCH, parent=hq, code="B2")
    users = {
        "branch": make_user(session, branch, Role.BANK_BRANCH_OFFICER),
        "sibling": make_user(session, sibling, Role.BANK_BRANCH_OFFICER),
        "hq": make_user(session, hq, Role.BANK_HQ_RISK),
        "other": make_user(
            session, make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H9"), Role.BANK_HQ_RISK
        ),
        "enterprise": make_user(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN),
    }
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    h = {name: login(client, user.username) for name, user in users.items()}

    assert client.get(BASE, headers=h["branch"]).json() == []
    run = client.post(BASE, headers=h["branch"], json=PERIOD)
    assert run.status_code == 200, run.text
    batch_id = run.json()["batch_id"]
    assert _audited(session, "risk.batch.store") == [[batch_id]]

    listed = client.get(BASE, headers=h["branch"])
    assert listed.status_code == 200
    (line,) = listed.json()
    assert (line["batch_id"], line["loans"], line["risky_loans"]) == (batch_id, 2, 2)
    assert (line["from_date"], line["to_date"], line["inquiry_id"]) == (
        "2024-03-01",
        "2024-03-31",
        run.json()["inquiry_id"],
    )
    assert _audited(session, "risk.batch.list")[-1] == [batch_id]

    whole = client.get(f"{BASE}/{batch_id}", headers=h["hq"])  # the head office sees its branch's
    assert whole.status_code == 200 and whole.json() == run.json()
    download = client.get(f"{BASE}/{batch_id}/csv", headers=h["branch"])
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.text.startswith("\ufeff") and f"{batch_id}.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert [r["loan_id"] for r in rows] == ["L1", "L2"]
    assert [sorted(ids) for ids in _audited(session, "risk.batch.read")] == [["L1", "L2"], ["L1", "L2"]]

    for who in ("other", "sibling"):
        assert client.get(f"{BASE}/{batch_id}", headers=h[who]).status_code == 404, who
        assert client.get(f"{BASE}/{batch_id}/csv", headers=h[who]).status_code == 404, who
        assert client.get(BASE, headers=h[who]).json() == [], who
    refused = client.get(f"{BASE}/{batch_id}", headers=h["enterprise"])
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert client.get(BASE, headers=h["branch"], params={"limit": 0}).status_code == 422
