"""Data providers write only their own data: by kind, by owner column, and through rows already loaded."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.ingest import service
from jinyu.ingest.errors import DatasetNotProvidable
from jinyu.party import service as party
from tests.fixtures.auth import make_org, principal, resident_id, uscc
from tests.ingest.loading import load

from .test_service import bank, stores, write_csv

__all__ = ["stores"]


def account(no: str, bank_code: str) -> dict[str, str]:
    return {
        "account_no": no, "bank_code": bank_code, "owner_type": "enterprise", "owner_id": uscc(),
        "owner_name": "某公司", "category": "corporate_settlement", "opened_on": "2020-01-01", "currency": "CNY",
    }  # fmt: skip


def loan(loan_id: str, bank_code: str, account_no: str) -> dict[str, str]:
    return {
        "loan_id": loan_id, "bank_code": bank_code, "borrower_uscc": uscc(), "disbursement_account": account_no,
        "amount": "1000.00", "disbursed_at": "2024-03-01T10:00:00", "term_months": "12",
        "declared_purpose": "working_capital",
    }  # fmt: skip


def transfer(txn: str, source: str, target: str) -> dict[str, str]:
    return {"txn_id": txn, "ts": "2024-03-02T09:00:00", "from_account": source, "to_account": target,
            "amount": "10.00", "currency": "CNY", "channel": "online"}  # fmt: skip


def guarantee(loan_id: str) -> dict[str, str]:
    return {"loan_id": loan_id, "guarantor_type": "person", "guarantor_id": resident_id(),
            "guarantor_name": "王五", "guarantee_type": "joint_liability", "amount": "10.00",
            "signed_on": "2024-02-01"}  # fmt: skip


@pytest.fixture
def region(session: Session, tmp_path: Path, stores: service.Stores) -> service.Stores:
    def put(dataset: str, rows: list[dict[str, str]]) -> None:
        load(session, SYSTEM, dataset, write_csv(tmp_path / f"{dataset}.csv", dataset, rows), stores)

    put("banks", [bank("B1", "head_office"), bank("B1-01", "branch", "B1"), bank("B2", "head_office")])
    put("accounts", [account("A1", "B1-01"), account("A2", "B2"), account("A3", "B2")])
    put("loans", [loan("L1", "B1-01", "A1"), loan("L2", "B2", "A2")])
    return stores


def engineer_of(session: Session, code: str):  # type: ignore[no-untyped-def]
    org = next(o for o in party.list_orgs(session, SYSTEM, None, code, 50, 0).items if o.code == code)
    return principal(session, org, Role.DATA_PROVIDER)


def lake_column(stores: service.Stores, dataset: str, column: str) -> list[str]:
    return sorted(v for f in stores.lake.files(dataset) for v in pq.read_table(f)[column].to_pylist())


def test_a_bureau_may_not_provide_loans(session: Session, tmp_path: Path, region: service.Stores) -> None:
    bureau = principal(session, make_org(session, OrgKind.BUREAU), Role.DATA_PROVIDER)
    path = write_csv(tmp_path / "l.csv", "loans", [loan("L9", "B2", "A2")])
    with pytest.raises(DatasetNotProvidable) as refused:
        load(session, bureau, "loans", path, region)
    assert refused.value.status == 403 and refused.value.extra["rule"] == "provided_by"
    assert lake_column(region, "loans", "loan_id") == ["L1", "L2"]


def test_a_branch_sends_only_its_own_subtree(
    session: Session, tmp_path: Path, region: service.Stores
) -> None:
    rows = [loan("L3", "B1-01", "A1"), loan("L4", "B1", "A1"), loan("L5", "B2", "A2")]
    branch = engineer_of(session, "B1-01")
    report = load(session, branch, "loans", write_csv(tmp_path / "l.csv", "loans", rows), region)
    assert (report.accepted, report.rejected_by_reason) == (1, {"not_own_tenant": 2})
    head = engineer_of(session, "B1")
    rows.append(loan("L6", "B1-01", "A1"))  # not the same file again (that would answer its first report)
    report = load(session, head, "loans", write_csv(tmp_path / "m.csv", "loans", rows), region)
    assert (report.accepted, report.rejected_by_reason) == (
        2,
        {"not_own_tenant": 1, "duplicate_key_existing": 1},
    )
    assert lake_column(region, "loans", "loan_id") == ["L1", "L2", "L3", "L4", "L6"]


def test_transfers_need_one_of_the_banks_accounts(
    session: Session, tmp_path: Path, region: service.Stores
) -> None:
    rows = [transfer("T1", "A1", "A2"), transfer("T2", "A2", "A1"), transfer("T3", "A2", "A3")]
    path = write_csv(tmp_path / "t.csv", "transfers", rows)
    report = load(session, engineer_of(session, "B1"), "transfers", path, region)
    assert (report.accepted, report.rejected_by_reason) == (2, {"not_own_tenant": 1})
    assert lake_column(region, "transfers", "txn_id") == ["T1", "T2"]


def test_guarantees_only_of_the_banks_loans(session: Session, tmp_path: Path, region: service.Stores) -> None:
    path = write_csv(tmp_path / "g.csv", "loan_guarantees", [guarantee("L1"), guarantee("L2")])
    report = load(session, engineer_of(session, "B1"), "loan_guarantees", path, region)
    assert (report.accepted, report.rejected_by_reason) == (1, {"not_own_tenant": 1})
    assert lake_column(region, "loan_guarantees", "loan_id") == ["L1"]
