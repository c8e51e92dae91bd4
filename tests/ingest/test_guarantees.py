"""The `loan_guarantees` contract: good rows load (persons tokenized as legal representatives are), every bad
row is quarantined with its reason, and the fast path accepts exactly what the row path does."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.core.auth import SYSTEM
from jinyu.core.errors import InvalidInput
from jinyu.core.ids import validate_uscc
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest import service
from jinyu.ingest.fast import typed_batch
from jinyu.ingest.pipeline import arrow_schema
from jinyu.ingest.rules import validate_row
from tests.fixtures.auth import resident_id, uscc
from tests.ingest.loading import load

from .test_service import KEY, bank, enterprise, write_csv


def _not_a_uscc(seq: int) -> str:
    """A resident ID that does not happen to pass the USCC check too (about one in 31 would)."""
    while True:
        rid = resident_id(seq=seq)
        try:
            validate_uscc(rid)
        except InvalidInput:
            return rid
        seq += 1


REP = _not_a_uscc(321)
GUARANTOR_PERSON = resident_id(birth="19790203", seq=456)
BORROWER, GUARANTOR = uscc(), uscc()


def guarantee(**kw: str) -> dict[str, str]:
    row = {
        "loan_id": "LN1", "guarantor_type": "enterprise", "guarantor_id": GUARANTOR, "guarantor_name": "某担保公司",
        "guarantee_type": "joint_liability", "amount": "500000.00", "signed_on": "2024-03-01",
    }  # fmt: skip
    return row | kw


@pytest.fixture
def stores(tmp_path: Path) -> service.Stores:
    return service.Stores(
        lake=Lake(tmp_path / "lake"),
        quarantine_dir=tmp_path / "quarantine",
        pseudonym_key=KEY,
        quarantine_key=b"q" * 32,
    )


@pytest.fixture
def loaded(session: Session, tmp_path: Path, stores: service.Stores) -> service.Stores:
    """Banks, the borrower (its legal representative REP), its account and one loan LN1."""
    steps = [
        ("banks", [bank("B1", "head_office"), bank("B1-01", "branch", "B1")]),
        ("enterprises", [enterprise(BORROWER, REP), enterprise(GUARANTOR, resident_id(seq=999))]),
        ("accounts", [{"account_no": "6001", "bank_code": "B1-01", "owner_type": "enterprise", "owner_id": BORROWER,
                       "owner_name": "企业", "category": "corporate_settlement", "opened_on": "2020-01-01",
                       "currency": "CNY"}]),
        ("loans", [{"loan_id": "LN1", "bank_code": "B1-01", "borrower_uscc": BORROWER, "disbursement_account": "6001",
                    "amount": "500000.00", "disbursed_at": "2024-03-04T10:00:00", "term_months": "12",
                    "declared_purpose": "working_capital"}]),
    ]  # fmt: skip
    for dataset, rows in steps:
        report = load(session, SYSTEM, dataset, write_csv(tmp_path / f"{dataset}.csv", dataset, rows), stores)
        assert report.rejected == 0, (dataset, report.rejected_by_reason)
    return stores


def test_good_rows_load_and_a_person_is_the_same_token_as_a_legal_representative(
    session: Session, tmp_path: Path, loaded: service.Stores
) -> None:
    rows = [
        guarantee(),
        guarantee(guarantor_type="person", guarantor_id=REP, guarantor_name="张三"),
        guarantee(guarantor_type="person", guarantor_id=GUARANTOR_PERSON.lower(), guarantor_name="李四",
                  guarantee_type="general", amount="250000"),  # a lower-case x is normalised first
        guarantee(guarantee_type="mortgage", amount="0.01", signed_on="2024-02-28"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "g.csv", "loan_guarantees", rows)
    report = load(session, SYSTEM, "loan_guarantees", path, loaded)
    assert (report.accepted, report.rejected) == (4, 0)
    lake = loaded.lake
    assert sorted(p.parent.name for p in lake.files("loan_guarantees")) == ["month=2024-02", "month=2024-03"]
    stored = pa.concat_tables([pq.read_table(f) for f in lake.files("loan_guarantees")]).to_pylist()
    reps = {r["legal_rep_id"] for f in lake.files("enterprises") for r in pq.read_table(f).to_pylist()}
    persons = [r for r in stored if r["guarantor_type"] == "person"]
    assert {r["guarantor_name"] for r in persons} == {"张*", "李*"}
    assert all(r["guarantor_id"].startswith("pt_") for r in persons)
    assert REP not in {r["guarantor_id"] for r in stored} and GUARANTOR_PERSON not in str(stored)
    assert {r["guarantor_id"] for r in persons} & reps  # the borrower's representative: one token
    assert {r["guarantor_id"] for r in stored if r["guarantor_type"] == "enterprise"} == {GUARANTOR}


BAD: list[tuple[dict[str, str], str]] = [
    (guarantee(guarantor_id=GUARANTOR[:-1] + ("0" if GUARANTOR[-1] != "0" else "1")), "bad_check:guarantor_id"),
    (guarantee(guarantor_id=REP), "bad_check:guarantor_id"),  # a resident ID where a USCC belongs
    (guarantee(guarantor_type="person", guarantor_id=GUARANTOR), "bad_check:guarantor_id"),
    (guarantee(guarantor_type="person", guarantor_id=REP[:-1] + ("1" if REP[-1] != "1" else "2")),
     "bad_check:guarantor_id"),
    (guarantee(guarantor_type="bank"), "bad_choice:guarantor_type"),
    (guarantee(guarantee_type="credit"), "bad_choice:guarantee_type"),
    (guarantee(amount="0"), "below_min:amount"),
    (guarantee(amount="-100.00"), "below_min:amount"),
    (guarantee(amount="1.005"), "too_many_decimals:amount"),
    (guarantee(amount="lots"), "bad_type:amount"),
    (guarantee(signed_on="2024-13-01"), "bad_type:signed_on"),
    (guarantee(signed_on=""), "missing_required:signed_on"),
    (guarantee(guarantor_id=""), "missing_required:guarantor_id"),
    (guarantee(loan_id="NO-SUCH-LOAN"), "unknown_reference:loan_id"),
]  # fmt: skip


def test_every_bad_row_is_quarantined_with_its_reason(
    session: Session, tmp_path: Path, loaded: service.Stores
) -> None:
    good = guarantee()
    rows = [good, good | {"amount": "1.00"}, *(row for row, _ in BAD)]  # the second repeats the key
    path = write_csv(tmp_path / "g.csv", "loan_guarantees", rows)
    report = load(session, SYSTEM, "loan_guarantees", path, loaded)
    assert (report.rows_total, report.accepted, report.rejected) == (len(rows), 1, len(rows) - 1)
    quarantined = (loaded.quarantine_dir / "loan_guarantees").glob("*.csv")
    with next(quarantined).open(encoding="utf-8", newline="") as fh:
        reasons = {int(r["row_number"]): r["reasons"] for r in csv.DictReader(fh)}
    assert reasons[2].startswith("duplicate_key_in_file:")
    assert [reasons[i + 3] for i in range(len(BAD))] == [reason for _, reason in BAD]
    again = write_csv(tmp_path / "g2.csv", "loan_guarantees", [good | {"amount": "2.00"}])
    second = load(session, SYSTEM, "loan_guarantees", again, loaded)
    assert second.rejected_by_reason == {"duplicate_key_existing": 1}


def _batch(rows: list[dict[str, str]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))


def test_the_fast_path_checks_each_id_by_its_type() -> None:
    contract = CONTRACTS["loan_guarantees"]
    clean = [guarantee(), guarantee(guarantor_type="person", guarantor_id=REP, guarantee_type="general")]
    fast = typed_batch(contract, _batch(clean), arrow_schema(contract))
    assert fast is not None
    assert fast.to_pylist() == [validate_row(contract, r)[0] for r in clean]
    for bad, _reason in BAD[:4]:
        assert typed_batch(contract, _batch([clean[0], bad]), arrow_schema(contract)) is None
