"""No raw personal data at rest: phones tokenized in the lake, quarantined rows only sealed."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.errors import NotFound, PermissionDenied
from jinyu.core.sealed import SealBroken, Sealer
from jinyu.governance.contracts import CONTRACTS, Level, Protect
from jinyu.ingest import quarantine, service
from jinyu.ingest.errors import QuarantineNotSealed
from tests.fixtures.auth import make_org, principal, resident_id, uscc
from tests.ingest.loading import load

from .test_service import KEY, bank, enterprise, stores, write_csv

__all__ = ["stores"]

QKEY = b"q" * 32


def phone_token(phone: str) -> str:
    """Independent of core.privacy: HMAC-SHA256 over 'phone' \\x1f value, first 32 hex digits."""
    return "pt_" + hmac.new(KEY, b"phone\x1f" + phone.encode(), hashlib.sha256).hexdigest()[:32]


def test_every_personal_column_and_every_phone_is_protected() -> None:
    for contract in CONTRACTS.values():
        for col in contract.columns:
            if col.level == Level.PERSONAL:
                assert col.protect is not None, f"{contract.name}.{col.name}"
            if "phone" in col.name or "电话" in col.description or "手机" in col.description:
                assert (col.protect, col.token_domain) == (Protect.TOKEN, "phone"), (
                    f"{contract.name}.{col.name}"
                )


def test_phones_reach_the_lake_only_as_tokens(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    mobile, landline = "13800138000", "023-63001234"
    rows = [
        enterprise(uscc(), resident_id(), phone=mobile),
        enterprise(uscc(), resident_id(seq=5), phone=landline),
    ]
    load(session, SYSTEM, "enterprises", write_csv(tmp_path / "e.csv", "enterprises", rows), stores)
    phones = [p for f in stores.lake.files("enterprises") for p in pq.read_table(f)["phone"].to_pylist()]
    assert sorted(phones) == sorted([phone_token(mobile), phone_token(landline)])
    raw = b"".join(f.read_bytes() for f in stores.lake.files("enterprises"))
    assert mobile.encode() not in raw and landline.encode() not in raw

    load(
        session, SYSTEM, "banks", write_csv(tmp_path / "b.csv", "banks", [bank("B1", "head_office")]), stores
    )
    manager = {"staff_id": "S1", "org_code": "B1", "name": "李四", "phone": mobile}
    load(
        session,
        SYSTEM,
        "customer_managers",
        write_csv(tmp_path / "m.csv", "customer_managers", [manager]),
        stores,
    )
    [row] = [r for f in stores.lake.files("customer_managers") for r in pq.read_table(f).to_pylist()]
    assert (row["phone"], row["name"]) == (phone_token(mobile), "李*")


def test_quarantined_rows_are_sealed_and_open_for_the_provider_only(
    session: Session, tmp_path: Path, stores: service.Stores
) -> None:
    rid, phone = resident_id(seq=7), "13912345678"
    bad = enterprise("91500000MA00000000", rid, phone=phone, legal_rep_name="欧阳明月")  # bad check character
    bureau = make_org(session, OrgKind.BUREAU)
    provider = principal(session, bureau, Role.DATA_PROVIDER)
    report = load(
        session, provider, "enterprises", write_csv(tmp_path / "q.csv", "enterprises", [bad]), stores
    )
    assert report.rejected == 1 and report.quarantine_file is not None
    path = stores.quarantine_dir / "enterprises" / report.quarantine_file
    text = path.read_text(encoding="utf-8")
    for needle in (rid, phone, "欧阳明月", "91500000MA00000000"):
        assert needle not in text
    assert "bad_check:uscc" in text

    out = quarantine.open_rows(session, provider, report.id, stores.quarantine_dir, Sealer(QKEY))
    [row] = out.rows
    assert (row.row_number, row.reasons) == (1, ["bad_check:uscc"])
    assert (row.values["legal_rep_id"], row.values["phone"], row.values["legal_rep_name"]) == (
        rid,
        phone,
        "欧阳明月",
    )

    colleague_elsewhere = principal(session, make_org(session, OrgKind.BUREAU), Role.DATA_PROVIDER)
    with pytest.raises(NotFound):
        quarantine.open_rows(session, colleague_elsewhere, report.id, stores.quarantine_dir, Sealer(QKEY))
    analyst = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    with pytest.raises(PermissionDenied):
        quarantine.open_rows(session, analyst, report.id, stores.quarantine_dir, Sealer(QKEY))
    with pytest.raises(SealBroken):
        quarantine.open_rows(session, provider, report.id, stores.quarantine_dir, Sealer(b"x" * 32))


def test_a_sealed_row_does_not_open_in_another_place() -> None:
    sealer = Sealer(QKEY)
    token = sealer.seal(json.dumps({"a": 1}).encode(), "enterprises\x1fL1\x1f3")
    assert json.loads(sealer.open(token, "enterprises\x1fL1\x1f3")) == {"a": 1}
    for context in ("enterprises\x1fL1\x1f4", "enterprises\x1fL2\x1f3"):
        with pytest.raises(SealBroken):
            sealer.open(token, context)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SealBroken):
        sealer.open(tampered, "enterprises\x1fL1\x1f3")


def test_a_quarantine_file_from_before_sealing_is_not_served(tmp_path: Path) -> None:
    old = tmp_path / "enterprises" / "abc.csv"
    old.parent.mkdir()
    old.write_text("row_number,reasons,uscc,phone\n1,bad_check:uscc,X,13800000000\n", encoding="utf-8")
    with pytest.raises(QuarantineNotSealed):
        quarantine.read(old, "enterprises", Sealer(QKEY))
