from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.errors import InvalidInput, PermissionDenied
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest import service
from jinyu.ingest.errors import UnknownDataset
from jinyu.party import service as party
from tests.fixtures.auth import make_org, principal, resident_id, uscc
from tests.ingest.loading import load

KEY = b"p" * 32


@pytest.fixture
def stores(tmp_path: Path) -> service.Stores:
    return service.Stores(
        lake=Lake(tmp_path / "lake"),
        quarantine_dir=tmp_path / "quarantine",
        pseudonym_key=KEY,
        quarantine_key=b"q" * 32,
    )


def write_csv(path: Path, dataset: str, rows: list[dict[str, str]]) -> Path:
    names = CONTRACTS[dataset].column_names
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=names)
        w.writeheader()
        for row in rows:
            w.writerow({n: row.get(n, "") for n in names})
    return path


def bank(code: str, level: str, parent: str = "") -> dict[str, str]:
    return {
        "org_code": code,
        "name": f"银行{code}",
        "level": level,
        "parent_code": parent,
        "district_code": "500101",
    }


def enterprise(code: str, rid: str, **kw: str) -> dict[str, str]:
    row = {
        "uscc": code,
        "name": f"企业{code[-4:]}",
        "industry_code": "C3974",
        "district_code": "500103",
        "registered_capital": "1000000.00",
        "established_on": "2018-05-01",
        "address": "渝中区1号",
        "phone": "023-1234",
        "legal_rep_id": rid,
        "legal_rep_name": "张三",
        "status": "active",
    }
    return row | kw


def test_bank_tree_loads_and_registers_organisations(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    rows = [
        bank("B1", "head_office"),
        bank("B1-01", "branch", "B1"),
        bank("B1-01-1", "outlet", "B1-01"),
        bank("B9-01", "branch", "B9"),
    ]
    report = load(session, SYSTEM, "banks", write_csv(tmp_path / "banks.csv", "banks", rows), stores)
    assert (report.rows_total, report.accepted, report.rejected) == (4, 3, 1)
    assert report.rejected_by_reason == {"unknown_reference": 1}
    assert report.parties == {"created": 3, "updated": 0}
    heads = party.list_orgs(session, SYSTEM, OrgKind.BANK_HEAD_OFFICE.value, None, 10, 0).items
    outlets = party.list_orgs(session, SYSTEM, OrgKind.BANK_OUTLET.value, None, 10, 0).items
    assert [h.code for h in heads] == ["B1"] and outlets[0].tenant_id == heads[0].id


def test_bad_rows_are_quarantined_with_reasons_and_nothing_is_lost(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    good, dup = uscc(), uscc()
    rows = [
        enterprise(good, resident_id()),
        enterprise(dup, resident_id(seq=2)),
        enterprise(dup, resident_id(seq=3)),  # repeated key in the file
        enterprise("91500000MA00000000", resident_id()),  # bad check character
        enterprise(uscc(), "500101198506141230", name=""),  # bad ID and missing name
        enterprise(uscc(), resident_id(), registered_capital="12.345"),
    ]
    path = write_csv(tmp_path / "enterprises.csv", "enterprises", rows)
    report = load(session, SYSTEM, "enterprises", path, stores)
    assert report.accepted + report.rejected == report.rows_total == 6
    assert report.accepted == 2
    assert report.rejected_by_reason == {
        "bad_check": 2,
        "duplicate_key_in_file": 1,
        "missing_required": 1,
        "too_many_decimals": 1,
    }
    assert report.quarantine_file is not None
    with open(stores.quarantine_dir / "enterprises" / report.quarantine_file, encoding="utf-8") as f:
        quarantined = list(csv.DictReader(f))
    assert [q["row_number"] for q in quarantined] == ["3", "4", "5", "6"]
    assert quarantined[2]["reasons"] == "missing_required:name;bad_check:legal_rep_id"
    assert list(quarantined[0]) == ["row_number", "reasons", "sealed_row"]
    assert stores.lake.row_count("enterprises") == 2


def test_personal_identifiers_never_reach_the_lake(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    rid = resident_id()
    path = write_csv(tmp_path / "e.csv", "enterprises", [enterprise(uscc(), rid)])
    load(session, SYSTEM, "enterprises", path, stores)
    for file in stores.lake.files("enterprises"):
        table = pq.read_table(file)
        assert rid not in table["legal_rep_id"].to_pylist()
        assert table["legal_rep_id"][0].as_py().startswith("pt_")
        assert table["legal_rep_name"][0].as_py() == "张*"


def test_same_file_loads_once_and_overlapping_keys_are_rejected(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    a, b = uscc(), uscc()
    first = write_csv(tmp_path / "e1.csv", "enterprises", [enterprise(a, resident_id())])
    r1 = load(session, SYSTEM, "enterprises", first, stores)
    r2 = load(session, SYSTEM, "enterprises", first, stores)
    assert r2.already_loaded and r2.id == r1.id and stores.lake.row_count("enterprises") == 1
    second = write_csv(
        tmp_path / "e2.csv", "enterprises", [enterprise(a, resident_id()), enterprise(b, resident_id(seq=9))]
    )
    r3 = load(session, SYSTEM, "enterprises", second, stores)
    assert (r3.accepted, r3.rejected_by_reason) == (1, {"duplicate_key_existing": 1})
    assert stores.lake.row_count("enterprises") == 2


def test_parquet_with_typed_columns(session: Session, tmp_path: Path, stores: service.Stores) -> None:
    load(
        session, SYSTEM, "banks", write_csv(tmp_path / "b.csv", "banks", [bank("B1", "head_office")]), stores
    )
    accounts = pa.table(
        {
            "account_no": ["A1", "A2"],
            "bank_code": ["B1", "NOPE"],
            "owner_type": ["person", "enterprise"],
            "owner_id": [resident_id(), uscc()],
            "owner_name": ["李四", "某公司"],
            "category": ["personal", "corporate_settlement"],
            "opened_on": ["2020-01-01", "2020-01-02"],
            "currency": ["CNY", "CNY"],
        }
    )
    pq.write_table(accounts, tmp_path / "accounts.parquet")
    report = load(session, SYSTEM, "accounts", tmp_path / "accounts.parquet", stores)
    assert (report.accepted, report.rejected_by_reason) == (1, {"unknown_reference": 1})
    lake_rows = pq.read_table(stores.lake.files("accounts")[0]).to_pylist()
    assert lake_rows[0]["owner_id"].startswith("pt_") and lake_rows[0]["owner_name"] == "李*"


def test_file_level_errors_name_the_problem(session: Session, tmp_path: Path, stores: service.Stores) -> None:
    bad = tmp_path / "banks.csv"
    bad.write_text("org_code,name,colour\nB1,x,red\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        load(session, SYSTEM, "banks", bad, stores)
    assert {"level", "colour"} <= {f.field for f in exc.value.fields}
    with pytest.raises(UnknownDataset):
        load(session, SYSTEM, "nope", bad, stores)
    with pytest.raises(InvalidInput):
        load(session, SYSTEM, "banks", tmp_path / "missing.csv", stores)


def test_only_data_providers_ingest(session: Session, tmp_path: Path, stores: service.Stores) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    with pytest.raises(PermissionDenied):
        load(session, principal(session, ent, Role.ENTERPRISE_ADMIN), "banks", tmp_path, stores)


def test_a_load_that_failed_after_writing_the_lake_is_redone_cleanly(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    path = write_csv(tmp_path / "e.csv", "enterprises", [enterprise(uscc(), resident_id())])
    savepoint = session.begin_nested()
    service.ingest(session, SYSTEM, "enterprises", path, stores)
    # written, not yet published: no reader sees a load's rows before its record commits
    assert stores.lake.row_count("enterprises") == 0
    assert list((stores.lake.root / "enterprises").rglob(".part-*.tmp"))
    savepoint.rollback()  # the load record is gone: its files go with it (the load is atomic)
    assert stores.lake.row_count("enterprises") == 0
    assert not list((stores.lake.root / "enterprises").rglob(".part-*.tmp"))
    report = service.ingest(session, SYSTEM, "enterprises", path, stores)
    assert not report.already_loaded and report.accepted == 1
    assert stores.lake.row_count("enterprises") == 0
    session.commit()  # published with the commit
    assert stores.lake.row_count("enterprises") == 1
