"""The `claim_insured` and `claim_visits` contracts: good rows load with the person tokenized exactly as the claim
engine tokenizes an enrollment, every bad row is quarantined naming its field, and the fast path accepts
exactly what the row path does."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.claim.service.common import person
from jinyu.core.auth import SYSTEM
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest import service
from jinyu.ingest.fast import typed_batch
from jinyu.ingest.pipeline import arrow_schema
from jinyu.ingest.rules import validate_row
from tests.fixtures.auth import resident_id
from tests.ingest.loading import load

from .test_service import KEY, write_csv


def _with_check_character(wanted: str) -> str:
    """A resident ID whose check character is `wanted` (an X shows that a lower-case x is normalised)."""
    return next(r for seq in range(1, 999) if (r := resident_id(birth="19700101", seq=seq))[-1] == wanted)


PATIENT = _with_check_character("X")
OTHER = resident_id(birth="19880512", seq=77)
NOT_AN_ID = PATIENT[:-1] + "0"  # the check character no longer fits


def insured(**kw: str) -> dict[str, str]:
    row = {"person_id": PATIENT, "product_code": "CQ-YKB-2024", "policy_year": "2024", "pre_existing": "",
           "premium": "69.00", "enrolled_on": "2023-11-15"}  # fmt: skip
    return row | kw


def visit(**kw: str) -> dict[str, str]:
    row = {
        "hospital_code": "H1", "mdtrt_id": "M1", "setl_id": "S1", "person_id": PATIENT,
        "setl_time": "2024-03-05T10:00:00", "dise_codg": "J18.9", "medfee_sumamt": "1000.00",
        "fulamt_ownpay_amt": "100.00", "overlmt_selfpay": "0", "preselfpay_amt": "50.00", "inscp_scp_amt": "850.00",
        "hifp_pay": "500.00", "hifmi_pay": "0.00", "hifob_pay": "0", "maf_pay": "0", "acct_pay": "100.00",
        "psn_cash_pay": "400.00", "bmi_settled": "true", "special_drug_code": "", "special_drug_amount": "",
    }  # fmt: skip
    return row | kw


@pytest.fixture
def stores(session: Session, tmp_path: Path) -> service.Stores:
    """A lake holding one hospital H1 (visits must name a known institution)."""
    stores = service.Stores(
        lake=Lake(tmp_path / "lake"),
        quarantine_dir=tmp_path / "quarantine",
        pseudonym_key=KEY,
        quarantine_key=b"q" * 32,
    )
    hospital = {"org_code": "H1", "name": "某医院", "kind": "hospital", "district_code": "500103",
                "hospital_grade": "3A", "in_prepayment": "true"}  # fmt: skip
    path = write_csv(tmp_path / "institutions.csv", "institutions", [hospital])
    assert load(session, SYSTEM, "institutions", path, stores).accepted == 1
    return stores


def _stored(lake: Lake, dataset: str) -> list[dict[str, object]]:
    return pa.concat_tables([pq.read_table(f) for f in lake.files(dataset)]).to_pylist()


def _reasons(stores: service.Stores, dataset: str) -> dict[int, str]:
    with next((stores.quarantine_dir / dataset).glob("*.csv")).open(encoding="utf-8", newline="") as fh:
        return {int(r["row_number"]): r["reasons"] for r in csv.DictReader(fh)}


def test_good_rows_load_with_the_claim_engines_person_token(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    people = [
        insured(person_id=PATIENT.lower(), pre_existing="C34;I25"),  # a lower-case x is normalised first
        insured(person_id=OTHER, premium="0", enrolled_on="2023-12-31"),
    ]
    visits = [
        visit(),
        visit(mdtrt_id="M2", setl_id="S2", person_id=OTHER, setl_time="2024-02-29T23:30:00+08:00",
              special_drug_code="L01FF02", special_drug_amount="45000.00", bmi_settled="0"),
        visit(setl_id="S1-2", setl_time="2024-03-06T09:00:00Z"),  # a second settlement of visit M1
    ]  # fmt: skip
    for dataset, rows in (("claim_insured", people), ("claim_visits", visits)):
        path = write_csv(tmp_path / f"{dataset}.csv", dataset, rows)
        report = load(session, SYSTEM, dataset, path, stores)
        assert (report.accepted, report.rejected) == (len(rows), 0), report.rejected_by_reason
    lake = stores.lake
    assert sorted(p.parent.name for p in lake.files("claim_insured")) == ["month=2023-11", "month=2023-12"]
    assert sorted(p.parent.name for p in lake.files("claim_visits")) == ["month=2024-02", "month=2024-03"]
    tokens = {person(PATIENT, KEY).token, person(OTHER, KEY).token}
    for dataset in ("claim_insured", "claim_visits"):
        stored = _stored(lake, dataset)
        assert {r["person_id"] for r in stored} == tokens
        assert PATIENT not in str(stored) and PATIENT.lower() not in str(stored) and OTHER not in str(stored)
    drug = next(r for r in _stored(lake, "claim_visits") if r["special_drug_code"])
    assert (str(drug["special_drug_amount"]), drug["bmi_settled"]) == ("45000.00", False)


INSURED_BAD: list[tuple[dict[str, str], str]] = [
    (insured(person_id=NOT_AN_ID), "bad_check:person_id"),
    (insured(person_id="", product_code="CQ-YKB-2025"), "missing_required:person_id"),
    (insured(policy_year="二〇二四"), "bad_type:policy_year"),
    (insured(policy_year="24"), "below_min:policy_year"),
    (insured(premium="-69.00"), "below_min:premium"),
    (insured(premium="69.001"), "too_many_decimals:premium"),
    (insured(enrolled_on="2023-02-30"), "bad_type:enrolled_on"),
    (insured(enrolled_on="15/11/2023"), "bad_type:enrolled_on"),
]

VISIT_BAD: list[tuple[dict[str, str], str]] = [
    (visit(mdtrt_id="B1", person_id=NOT_AN_ID), "bad_check:person_id"),
    (visit(mdtrt_id="B2", psn_cash_pay="-0.01"), "below_min:psn_cash_pay"),
    (visit(mdtrt_id="B3", special_drug_code="L01FF02", special_drug_amount="-45000.00"),
     "below_min:special_drug_amount"),
    (visit(mdtrt_id="B4", medfee_sumamt="1000.005"), "too_many_decimals:medfee_sumamt"),
    (visit(mdtrt_id="B5", hifp_pay="五百"), "bad_type:hifp_pay"),
    (visit(mdtrt_id="B6", setl_time="2024-02-30T10:00:00"), "bad_type:setl_time"),
    (visit(mdtrt_id="B7", bmi_settled="maybe"), "bad_type:bmi_settled"),
    (visit(mdtrt_id="B8", dise_codg=""), "missing_required:dise_codg"),
    (visit(mdtrt_id="", setl_id="B9"), "missing_required:mdtrt_id"),
    (visit(mdtrt_id="B10", person_id=NOT_AN_ID, acct_pay="-1"), "bad_check:person_id;below_min:acct_pay"),
    (visit(mdtrt_id="B11", hospital_code="NO-SUCH-HOSPITAL"), "unknown_reference:hospital_code"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "good", "bad", "repeat"),
    [
        ("claim_insured", insured(), INSURED_BAD, {"premium": "70.00"}),
        ("claim_visits", visit(), VISIT_BAD, {"psn_cash_pay": "300.00", "acct_pay": "200.00"}),
    ],
)
def test_every_bad_row_is_quarantined_naming_its_field(
    session: Session,
    tmp_path: Path,
    stores: service.Stores,
    dataset: str,
    good: dict[str, str],
    bad: list[tuple[dict[str, str], str]],
    repeat: dict[str, str],
) -> None:
    rows = [good, good | repeat, *(row for row, _ in bad)]  # the second repeats the first one's key
    report = load(session, SYSTEM, dataset, write_csv(tmp_path / "bad.csv", dataset, rows), stores)
    assert (report.rows_total, report.accepted, report.rejected) == (len(rows), 1, len(rows) - 1)
    reasons = _reasons(stores, dataset)
    assert reasons[2] == "duplicate_key_in_file:" + ",".join(CONTRACTS[dataset].key)
    assert [reasons[i + 3] for i in range(len(bad))] == [reason for _, reason in bad]
    again = write_csv(tmp_path / "again.csv", dataset, [good | repeat])
    assert load(session, SYSTEM, dataset, again, stores).rejected_by_reason == {"duplicate_key_existing": 1}


def test_a_person_id_given_twice_is_one_key_once_normalised(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    path = write_csv(tmp_path / "i.csv", "claim_insured", [insured(), insured(person_id=PATIENT.lower())])
    report = load(session, SYSTEM, "claim_insured", path, stores)
    assert (report.accepted, report.rejected_by_reason) == (1, {"duplicate_key_in_file": 1})


def _batch(rows: list[dict[str, str]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))


@pytest.mark.parametrize(
    ("dataset", "clean", "bad"),
    [
        ("claim_insured", [insured(), insured(person_id=OTHER, pre_existing="C50")], INSURED_BAD),
        ("claim_visits", [visit(), visit(mdtrt_id="M2", special_drug_code="L01FD01",
                                         special_drug_amount="25000")], VISIT_BAD),
    ],
)  # fmt: skip
def test_the_fast_path_accepts_what_the_row_path_does_and_defers_the_rest(
    dataset: str, clean: list[dict[str, str]], bad: list[tuple[dict[str, str], str]]
) -> None:
    contract = CONTRACTS[dataset]
    fast = typed_batch(contract, _batch(clean), arrow_schema(contract))
    assert fast is not None
    assert fast.to_pylist() == [validate_row(contract, r)[0] for r in clean]
    for row, reason in bad:
        if not reason.startswith("unknown_reference"):  # a lake check, after both paths
            assert typed_batch(contract, _batch([clean[0], row]), arrow_schema(contract)) is None, reason
