"""Declared related parties of the small region and their planted cases: what each case declares, and that
the part (on a stream of its own, after every other part that reads loans) changed only its own files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jinyu.synth import Manifest, generate, generator
from jinyu.synth.refund_cases import REFUND_CASES
from jinyu.synth.related_cases import RELATED_CASES
from jinyu.synth.risk_cases import LABELS_FILE, read_labels
from tests.synth.conftest import SEED

Rows = Callable[[str], list[dict[str, Any]]]


def _cases(region_dir: Path) -> dict[str, dict[str, str]]:
    return {x["case"]: x for x in read_labels(region_dir / LABELS_FILE) if x["case"] in RELATED_CASES}


def test_each_case_declares_what_it_says(rows: Rows, region_dir: Path) -> None:
    cases = _cases(region_dir)
    assert set(cases) == set(RELATED_CASES)  # one of each at the small scale
    loans = {x["loan_id"]: x for x in rows("loans")}
    banks = {x["org_code"]: x for x in rows("banks")}
    declared = {x["owner_uscc"]: x for x in rows("related_parties")}
    holders = rows("shareholders")

    def head(code: str) -> str:
        return str(banks[code]["parent_code"])

    for name, label in cases.items():
        loan = loans[label["loan_id"]]
        day = loan["disbursed_at"].date()
        assert (label["detectable"] == "true") == (name not in ("declared_by_other_bank", "declared_expired"))
        if name == "return_via_control_chain":
            assert loan["borrower_uscc"] not in declared
            owned = [h for h in holders if h["holder_id"] == loan["borrower_uscc"]]
            chain = [
                (h, h2)
                for h in owned
                for h2 in holders
                if h2["holder_id"] == h["uscc"] and Decimal(h["share_ratio"]) >= 50
            ]
            assert any(Decimal(h2["share_ratio"]) >= 50 for _h, h2 in chain)
            continue
        row = declared[loan["borrower_uscc"]]
        valid_to = dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
        assert dt.date.fromisoformat(row["valid_from"]) <= day
        if name == "declared_expired":
            assert valid_to is not None and valid_to < day
        else:
            assert valid_to is None
        if name == "return_to_group_member":
            assert row["bank_code"] is None and row["source"] == "group_registry"
        elif name == "declared_by_other_bank":
            assert head(row["bank_code"]) != head(loan["bank_code"])
        else:
            assert row["bank_code"] == loan["bank_code"]


def _digests(manifest: Manifest) -> dict[str, str]:
    return {f.path: f.sha256 for ds in manifest.datasets.values() for f in ds.files}


def test_related_cases_change_only_their_files(
    region_dir: Path, manifest: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = tuple(p for p in generator.PARTS if "declared related" not in p[0])
    assert len(parts) == len(generator.PARTS) - 1
    monkeypatch.setattr(generator, "PARTS", parts)
    monkeypatch.setitem(generator._DERIVED, "related_parties", lambda _region: {
        c: [] for c in generator.DATASETS["related_parties"].column_names
    })  # fmt: skip
    without = generate(tmp_path / "without", "small", SEED, progress=False)
    before, now = _digests(without), _digests(manifest)
    assert {p for p in now if before.get(p) != now[p]} == {
        "related_parties.csv",
        "enterprises.csv",
        "shareholders.csv",
    }
    old, new = read_labels(tmp_path / "without" / LABELS_FILE), read_labels(region_dir / LABELS_FILE)
    # the refund part (1.6) runs last: its labels end both files and are the same
    old, tail = old[: -len(REFUND_CASES)], old[-len(REFUND_CASES) :]
    assert new[-len(REFUND_CASES) :] == tail and {x["case"] for x in tail} == set(REFUND_CASES)
    new = new[: -len(REFUND_CASES)]
    assert new[: len(old)] == old and {x["case"] for x in new[len(old) :]} == set(RELATED_CASES)
