"""Stored batch checks in the console: a batch run from the batch page is kept for the bank (listed on the
page, reopened, downloaded as CSV later without running it again), every step audited; another bank, a sibling
branch and a role without risk queries do not get it (404 / 403); the head office sees its branch's batches."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.risk.models import StoredBatch
from tests.fixtures.auth import make_org, make_user
from tests.risk.tracing.lake import golden_rows, write
from tests.web.console import console_login, csrf_of

PERIOD = {"from_date": "2024-03-01", "to_date": "2024-03-31"}


def _audited(session: Session, action: str) -> list[tuple[list[str], str]]:
    """(subject ids, outcome) of the entries of `action`, read before the rollback (which expires them)."""
    session.expire_all()
    stmt = select(AuditEntry.subject_ids, AuditEntry.outcome).where(AuditEntry.action == action)
    rows = [(json.loads(ids), outcome) for ids, outcome in session.execute(stmt).all()]
    session.rollback()  # SQLite: no transaction left open over the app's next request
    return rows


def _run(client: TestClient) -> str:
    page = client.get("/console/batch").text
    shown = client.post("/console/batch", data={"csrf_token": csrf_of(page), **PERIOD})
    assert shown.status_code == 200, shown.text
    marker = 'id="stored-link" href="/console/batch/'
    assert marker in shown.text
    return shown.text.split(marker)[1].split('"')[0]


def test_a_batch_is_stored_listed_reopened_and_downloaded(
    client: TestClient, session: Session, settings: Settings
) -> None:
    hq = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    officer = make_user(session, hq, Role.BANK_HQ_RISK)
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    console_login(client, officer.username)
    assert 'id="stored-batches"' not in client.get("/console/batch").text  # nothing stored yet

    batch_id = _run(client)
    session.expire_all()
    stored = session.get(StoredBatch, batch_id)
    assert stored is not None and (stored.loans, stored.risky_loans) == (2, 2)
    assert stored.tenant_id == hq.tenant_id and stored.actor_id == officer.id
    session.rollback()
    assert _audited(session, "risk.batch.store") == [([batch_id], "ok")]

    listed = client.get("/console/batch").text
    assert f'data-batch="{batch_id}"' in listed and "2024-03-01 – 2024-03-31" in listed
    reopened = client.get(f"/console/batch/{batch_id}")
    assert reopened.status_code == 200
    assert 'id="batch-loans">2<' in reopened.text and 'id="batch-risky">2<' in reopened.text
    download = client.get(f"/console/batch/{batch_id}/csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert f"{batch_id}.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert [r["loan_id"] for r in rows] == ["L1", "L2"] and {r["verdict"] for r in rows} == {"risky"}
    reads = _audited(session, "risk.batch.read")
    assert len(reads) == 2 and all(sorted(ids) == ["L1", "L2"] for ids, _ in reads)
    # reopening did not run the batch again: one batch inquiry in the history, one stored row
    assert client.get("/console/inquiries").text.count('data-kind="batch"') == 1
    stored_count = session.scalar(select(func.count()).select_from(StoredBatch))
    session.rollback()
    assert stored_count == 1


def test_another_bank_and_a_sibling_branch_get_404(
    client: TestClient, session: Session, settings: Settings
) -> None:
    hq = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=hq, code="B1")
    sibling = make_org(session, OrgKind.BANK_BRANCH, parent=hq, code="B2")
    users = {
        "branch": make_user(session, branch, Role.BANK_BRANCH_OFFICER).username,
        "sibling": make_user(session, sibling, Role.BANK_BRANCH_OFFICER).username,
        "hq": make_user(session, hq, Role.BANK_HQ_RISK).username,
        "other": make_user(
            session, make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H9"), Role.BANK_HQ_RISK
        ).username,
        "enterprise": make_user(
            session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN
        ).username,
    }
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    console_login(client, users["branch"])
    batch_id = _run(client)

    for who in ("other", "sibling"):
        console_login(client, users[who])
        assert client.get(f"/console/batch/{batch_id}").status_code == 404, who
        assert client.get(f"/console/batch/{batch_id}/csv").status_code == 404, who
        assert batch_id not in client.get("/console/batch").text, who
    console_login(client, users["enterprise"])
    assert client.get(f"/console/batch/{batch_id}").status_code == 403
    console_login(client, users["hq"])  # the head office sees what its branch ran
    assert f'data-batch="{batch_id}"' in client.get("/console/batch").text
    assert client.get(f"/console/batch/{batch_id}").status_code == 200
    paths = [ids for ids, outcome in _audited(session, "http.get") if outcome == "not_found"]
    assert paths.count([f"/console/batch/{batch_id}"]) == 2  # the other bank's and the sibling's
