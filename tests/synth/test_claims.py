"""The claim datasets of the small region as files: insured residents, their visits in settlement order with
records that add up, at the region's hospitals; and that writing them left every other file byte for byte as
it was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jinyu.synth import Manifest, generate, generator
from jinyu.synth.claims import PRODUCT_CODE
from tests.synth.conftest import SEED

Rows = Callable[[str], list[dict[str, Any]]]
CLAIM_FILES = {"claim_insured.csv", "claim_visits.csv"}
PARTS_OF_THE_BILL = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
PAYERS = ("hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "acct_pay", "psn_cash_pay")


def test_the_manifest_lists_both_claim_datasets_after_the_foundation(manifest: Manifest) -> None:
    names = list(manifest.datasets)  # later groups (the credit-card sources) follow the claims
    at = names.index("transfers")
    assert names[at : at + 3] == ["transfers", "claim_insured", "claim_visits"]
    assert manifest.generator_version == generator.GENERATOR_VERSION
    assert {
        f.path for n in ("claim_insured", "claim_visits") for f in manifest.datasets[n].files
    } == CLAIM_FILES


def test_insured_persons_are_residents_of_the_region(rows: Rows) -> None:
    residents = {a["owner_id"] for a in rows("accounts") if a["owner_type"] == "person"}
    insured = rows("claim_insured")
    assert {r["person_id"] for r in insured} <= residents
    assert 0.25 <= len(insured) / len(residents) <= 0.45  # about 35 % enroll
    assert {(r["product_code"], r["policy_year"], r["premium"]) for r in insured} == {
        (PRODUCT_CODE, "2024", "69.00")
    }
    assert any(r["pre_existing"] for r in insured) and not all(r["pre_existing"] for r in insured)
    assert all(dt.date.fromisoformat(r["enrolled_on"]) < dt.date(2024, 1, 1) for r in insured)


def test_visits_are_in_settlement_order_at_hospitals_of_insured_persons(rows: Rows) -> None:
    visits = rows("claim_visits")
    hospitals = {i["org_code"] for i in rows("institutions") if i["kind"] == "hospital"}
    insured = {r["person_id"] for r in rows("claim_insured")}
    order = [(dt.datetime.fromisoformat(v["setl_time"]), v["mdtrt_id"]) for v in visits]
    assert order == sorted(order)
    assert all(
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC) <= t < dt.datetime(2025, 1, 1, tzinfo=dt.UTC) for t, _ in order
    )
    assert {v["hospital_code"] for v in visits} <= hospitals
    assert {v["person_id"] for v in visits} <= insured


def test_every_written_settlement_record_adds_up(rows: Rows) -> None:
    for v in rows("claim_visits"):
        total = Decimal(v["medfee_sumamt"])
        assert total == sum(Decimal(v[c]) for c in PARTS_OF_THE_BILL) == sum(Decimal(v[c]) for c in PAYERS)
        assert (v["special_drug_code"] is None) == (v["special_drug_amount"] is None), v["mdtrt_id"]
        assert v["bmi_settled"] == "true" or Decimal(v["hifp_pay"]) == 0


def _digests(manifest: Manifest) -> dict[str, str]:
    return {f.path: f.sha256 for ds in manifest.datasets.values() for f in ds.files}


def test_claims_change_no_other_file(
    region_dir: Path, manifest: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the claims part every other file (datasets, statements, risk labels) is byte for byte equal."""
    parts = tuple(p for p in generator.PARTS if "claims" not in p[0])
    assert len(parts) == len(generator.PARTS) - 1
    monkeypatch.setattr(generator, "PARTS", parts)
    for name in ("claim_insured", "claim_visits"):
        monkeypatch.setitem(generator._DERIVED, name, lambda _region, name=name: {
            c: [] for c in generator.DATASETS[name].column_names
        })  # fmt: skip
    without = generate(tmp_path / "without", "small", SEED, progress=False)
    before, now = _digests(without), _digests(manifest)
    assert before.keys() == now.keys()
    assert {p for p in now if before[p] != now[p]} == CLAIM_FILES
    for path in sorted(region_dir.rglob("*")):
        if path.is_file() and path.name not in CLAIM_FILES | {"manifest.json"}:
            twin = tmp_path / "without" / path.relative_to(region_dir)
            assert twin.read_bytes() == path.read_bytes(), path.name
