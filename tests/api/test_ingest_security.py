"""Data providers write only their own data, and their rejected rows stay sealed — over the API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest import service
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut
from tests.fixtures.auth import login, make_org, make_user, resident_id, uscc


def stores_of(settings: Settings) -> service.Stores:
    return service.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=settings.data_dir / "quarantine",
        pseudonym_key=settings.key("pseudonym_key"),
        quarantine_key=settings.key("quarantine_key"),
    )


def csv_bytes(dataset: str, rows: list[dict[str, str]]) -> bytes:
    names = CONTRACTS[dataset].column_names
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=names)
    w.writeheader()
    for row in rows:
        w.writerow({n: row.get(n, "") for n in names})
    return buf.getvalue().encode()


def load(
    session: Session, settings: Settings, tmp_path: Path, dataset: str, rows: list[dict[str, str]]
) -> None:
    path = tmp_path / f"{dataset}.csv"
    path.write_bytes(csv_bytes(dataset, rows))
    service.ingest(session, SYSTEM, dataset, path, stores_of(settings))
    session.commit()  # a load's lake files are published when its record commits


def bank(code: str, level: str, parent: str = "") -> dict[str, str]:
    return {
        "org_code": code,
        "name": f"银行{code}",
        "level": level,
        "parent_code": parent,
        "district_code": "500101",
    }


def account(no: str, bank_code: str) -> dict[str, str]:
    return {
        "account_no": no, "bank_code": bank_code, "owner_type": "enterprise", "owner_id": uscc(),
        "owner_name": "某公司", "category": "corporate_settlement", "opened_on": "2020-01-01", "currency": "CNY",
    }  # fmt: skip


def loan(loan_id: str, bank_code: str, account_no: str) -> dict[str, str]:
    return {
        "loan_id": loan_id, "bank_code": bank_code, "borrower_uscc": uscc(), "disbursement_account": account_no,
        "amount": "1000000.00", "disbursed_at": "2024-03-01T10:00:00", "term_months": "12",
        "declared_purpose": "working_capital",
    }  # fmt: skip


def org_by_code(session: Session, code: str) -> OrgOut:
    heads = party.list_orgs(session, SYSTEM, None, code, 50, 0).items
    return next(o for o in heads if o.code == code)


@pytest.fixture
def region(session: Session, settings: Settings, tmp_path: Path) -> None:
    """Two banks (B1 with a branch, B2), an account at each."""
    load(
        session,
        settings,
        tmp_path,
        "banks",
        [bank("B1", "head_office"), bank("B1-01", "branch", "B1"), bank("B2", "head_office")],
    )
    load(
        session,
        settings,
        tmp_path,
        "accounts",
        [account("6222000000000001", "B1-01"), account("6222000000000002", "B2")],
    )
    session.commit()


def upload(client: TestClient, headers: dict[str, str], dataset: str, rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    files = {"file": (f"{dataset}.csv", csv_bytes(dataset, rows), "text/csv")}
    return client.post(f"/api/v1/ingest/{dataset}", files=files, headers=headers)


def test_a_bureau_may_not_provide_a_banks_loans(
    client: TestClient, session: Session, settings: Settings, region: None
) -> None:
    bureau = make_org(session, OrgKind.BUREAU)
    user = make_user(session, bureau, Role.DATA_PROVIDER)
    session.commit()
    resp = upload(client, login(client, user.username), "loans", [loan("L1", "B1-01", "6222000000000001")])
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == "dataset_not_providable" and body["rule"] == "provided_by"
    assert "provided_by" in body["detail"] and "bank_head_office" in body["provided_by"]
    assert Lake(settings.lake_dir).files("loans") == []
    denied = session.scalars(
        select(AuditEntry).where(AuditEntry.outcome == "denied", AuditEntry.actor_name == user.username)
    ).all()
    assert [e.detail for e in denied] and "dataset_not_providable" in str(denied[0].detail)


def test_a_bank_sends_only_rows_of_its_own_tree(
    client: TestClient, session: Session, settings: Settings, region: None
) -> None:
    b1 = org_by_code(session, "B1")
    engineer = make_user(session, b1, Role.DATA_PROVIDER)
    session.commit()
    headers = login(client, engineer.username)
    rows = [loan("L1", "B1-01", "6222000000000001"), loan("L2", "B2", "6222000000000002")]
    resp = upload(client, headers, "loans", rows)
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert report["rejected_by_reason"] == {"not_own_tenant": 1}
    in_lake = [
        r["loan_id"] for f in Lake(settings.lake_dir).files("loans") for r in pq.read_table(f).to_pylist()
    ]
    assert in_lake == ["L1"]
    # The report names files, never where the server keeps them.
    assert report["quarantine_file"] == Path(report["quarantine_file"]).name
    assert str(settings.data_dir.resolve()) not in resp.text and str(settings.data_dir) not in resp.text
    assert all(not p.startswith("/") for p in report["lake_files"])

    opened = client.get(f"/api/v1/ingest/loads/{report['id']}/quarantine", headers=headers)
    assert opened.status_code == 200, opened.text
    [row] = opened.json()["rows"]
    assert row["row_number"] == 2 and row["reasons"] == ["not_own_tenant:bank_code"]
    assert row["values"]["loan_id"] == "L2" and row["values"]["bank_code"] == "B2"

    b2_engineer = make_user(session, org_by_code(session, "B2"), Role.DATA_PROVIDER)
    regulator = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    admin = make_user(session, make_org(session, OrgKind.OPERATOR), Role.PLATFORM_ADMIN)
    session.commit()
    url = f"/api/v1/ingest/loads/{report['id']}/quarantine"
    assert client.get(url, headers=login(client, b2_engineer.username)).status_code == 404
    assert client.get(url, headers=login(client, admin.username)).status_code == 404
    assert client.get(url, headers=login(client, regulator.username)).status_code == 403
    opens = session.scalars(select(AuditEntry).where(AuditEntry.action == "ingest.quarantine.open")).all()
    assert [e.actor_name for e in opens] == [engineer.username]


def test_a_bank_provider_may_not_load_government_data(
    client: TestClient, session: Session, settings: Settings, region: None
) -> None:
    engineer = make_user(session, org_by_code(session, "B1"), Role.DATA_PROVIDER)
    session.commit()
    row = {"uscc": uscc(), "name": "某公司", "industry_code": "C3974", "district_code": "500103",
           "registered_capital": "1.00", "established_on": "2020-01-01", "address": "某地", "phone": "",
           "legal_rep_id": resident_id(), "legal_rep_name": "张三", "status": "active"}  # fmt: skip
    resp = upload(client, login(client, engineer.username), "enterprises", [row])
    assert resp.status_code == 403 and resp.json()["code"] == "dataset_not_providable"
