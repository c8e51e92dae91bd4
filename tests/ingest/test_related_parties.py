"""Declared related parties at ingestion: a bank sends rows of its own tree only, the registry shared rows
only (no bank code); person ids are tokenized like every other person id; bad rows are quarantined."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.ingest import service
from tests.fixtures.auth import make_org, principal, resident_id, uscc
from tests.ingest.loading import load

from .test_scope import engineer_of
from .test_service import bank, enterprise, stores, write_csv

__all__ = ["stores"]
OWNER, OTHER = uscc(), uscc()


def declared(
    bank_code: str, related_id: str = OTHER, related_type: str = "enterprise", **kw: str
) -> dict[str, str]:
    row = {"owner_uscc": OWNER, "related_type": related_type, "related_id": related_id, "related_name": "关联方",
           "relation": "affiliate", "source": "credit_file", "bank_code": bank_code, "valid_from": "2023-01-01",
           "valid_to": ""}  # fmt: skip
    return row | kw


@pytest.fixture
def region(session: Session, tmp_path: Path, stores: service.Stores) -> service.Stores:
    def put(dataset: str, rows: list[dict[str, str]]) -> None:
        load(session, SYSTEM, dataset, write_csv(tmp_path / f"{dataset}.csv", dataset, rows), stores)

    put("banks", [bank("B1", "head_office"), bank("B1-01", "branch", "B1"), bank("B2", "head_office")])
    put("enterprises", [enterprise(OWNER, resident_id(seq=1)), enterprise(OTHER, resident_id(seq=2))])
    return stores


def _rows(stores: service.Stores) -> list[dict[str, object]]:
    return [r for f in stores.lake.files("related_parties") for r in pq.read_table(f).to_pylist()]


def test_a_bank_declares_for_its_own_tree_only(
    session: Session, tmp_path: Path, region: service.Stores
) -> None:
    person = resident_id(seq=7)
    rows = [
        declared("B1-01"),
        declared("B1", person, "person", relation="family", related_name="王小明"),
        declared("B2", relation="group_member"),  # the other bank's code
        declared("", relation="mutual_guarantee"),  # a shared row: only the registry sends those
        declared("B1", relation="cousin"),  # not in the code list
        declared("B1", "91500000MA0000000X", relation="key_personnel"),  # bad check character
    ]
    path = write_csv(tmp_path / "r.csv", "related_parties", rows)
    report = load(session, engineer_of(session, "B1"), "related_parties", path, region)
    assert (report.accepted, report.rejected_by_reason) == (
        2,
        {"not_own_tenant": 2, "bad_choice": 1, "bad_check": 1},
    )
    stored = _rows(region)
    assert sorted(str(r["bank_code"]) for r in stored) == ["B1", "B1-01"]
    person_row = next(r for r in stored if r["related_type"] == "person")
    assert person_row["related_id"] != person and len(str(person_row["related_id"])) > 20  # a keyed token
    assert person_row["related_name"] == "王**"


def test_the_registry_sends_shared_rows_only(
    session: Session, tmp_path: Path, region: service.Stores
) -> None:
    registry = principal(session, make_org(session, OrgKind.BUREAU), Role.DATA_PROVIDER)
    rows = [
        declared("", source="group_registry", relation="group_member"),
        declared("B1", source="public_registry"),
    ]
    path = write_csv(tmp_path / "r.csv", "related_parties", rows)
    report = load(session, registry, "related_parties", path, region)
    assert (report.accepted, report.rejected_by_reason) == (1, {"not_own_tenant": 1})
    assert [r["bank_code"] for r in _rows(region)] == [None]


def test_two_banks_declaring_the_same_relation_are_two_declarations(
    session: Session, tmp_path: Path, region: service.Stores
) -> None:
    """The key includes bank_code: the second bank's declaration is not refused as the first one's key (each
    bank sees only its own); the same bank or the registry sending a row again is still a duplicate."""
    put = (
        ("B1", [declared("B1")], (1, {})),
        ("B2", [declared("B2")], (1, {})),  # same owner, party, relation and source: another bank
        # the same declaration again (another file: a repeated file is an idempotent re-load)
        ("B1", [declared("B1", related_name="关联方甲")], (0, {"duplicate_key_existing": 1})),
    )
    for n, (bank_code, rows, expected) in enumerate(put):
        path = write_csv(tmp_path / f"r{n}.csv", "related_parties", rows)
        report = load(session, engineer_of(session, bank_code), "related_parties", path, region)
        assert (report.accepted, report.rejected_by_reason) == expected
    registry = principal(session, make_org(session, OrgKind.BUREAU), Role.DATA_PROVIDER)
    twice = write_csv(tmp_path / "reg.csv", "related_parties", [declared(""), declared("")])
    report = load(session, registry, "related_parties", twice, region)
    assert (report.accepted, report.rejected_by_reason) == (1, {"duplicate_key_in_file": 1})
    again = write_csv(tmp_path / "reg2.csv", "related_parties", [declared("", related_name="关联方乙")])
    report = load(session, registry, "related_parties", again, region)
    assert (report.accepted, report.rejected_by_reason) == (0, {"duplicate_key_existing": 1})
    assert sorted(str(r["bank_code"]) for r in _rows(region)) == ["B1", "B2", "None"]
