"""Loan guarantees of the small region: who guarantees, how much, when; and that adding them (on streams of
their own) left every other generated file byte for byte as it was."""

from __future__ import annotations

import datetime as dt
from collections import Counter
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


def test_a_realistic_share_of_loans_has_one_or_two_guarantors(rows: Rows, region_dir: Path) -> None:
    loans = {x["loan_id"]: x for x in rows("loans")}
    guarantees = rows("loan_guarantees")
    per_loan = Counter(g["loan_id"] for g in guarantees)
    planted = {
        x["loan_id"] for x in read_labels(region_dir / LABELS_FILE) if x["case"] == "return_to_guarantor"
    }
    assert set(per_loan) <= set(loans) and planted <= set(per_loan)
    assert 0.45 <= len(per_loan) / len(loans) <= 0.75
    assert {n for loan, n in per_loan.items() if loan not in planted} <= {1, 2}  # a planted one: one more
    kinds = Counter(g["guarantor_type"] for g in guarantees)
    assert kinds["person"] > 0 and kinds["enterprise"] > 0


def test_guarantors_are_the_borrowers_representative_or_registered_companies(rows: Rows) -> None:
    loans = {x["loan_id"]: x for x in rows("loans")}
    enterprises = {e["uscc"]: e for e in rows("enterprises")}
    for g in rows("loan_guarantees"):
        loan = loans[g["loan_id"]]
        if g["guarantor_type"] == "person":
            assert g["guarantor_id"] == enterprises[loan["borrower_uscc"]]["legal_rep_id"]
        else:
            assert g["guarantor_id"] in enterprises and g["guarantor_id"] != loan["borrower_uscc"]
        assert Decimal("0") < Decimal(g["amount"]) <= loan["amount"]
        signed = dt.date.fromisoformat(g["signed_on"])
        disbursed = loan["disbursed_at"].date()
        assert disbursed - dt.timedelta(days=10) <= signed <= disbursed


def _digests(manifest: Manifest) -> dict[str, str]:
    return {f.path: f.sha256 for ds in manifest.datasets.values() for f in ds.files}


def test_guarantees_change_no_other_file(
    region_dir: Path, manifest: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the two guarantee parts (and the declared related-party part after them, which picks among the
    same loans: tests/synth/test_related_cases.py) every other dataset, the statements and the older labels
    are equal."""
    parts = tuple(
        p
        for p in generator.PARTS
        if not any(w in p[0] for w in ("guarantee", "guarantor", "declared related"))
    )
    assert len(parts) == len(generator.PARTS) - 3
    monkeypatch.setattr(generator, "PARTS", parts)
    monkeypatch.setitem(generator._DERIVED, "loan_guarantees", lambda _region: {
        c: [] for c in generator.DATASETS["loan_guarantees"].column_names
    })  # fmt: skip
    monkeypatch.setitem(generator._DERIVED, "related_parties", lambda _region: {
        c: [] for c in generator.DATASETS["related_parties"].column_names
    })  # fmt: skip
    without = generate(tmp_path / "without", "small", SEED, progress=False)
    before, now = _digests(without), _digests(manifest)
    related = {"related_parties.csv", "enterprises.csv", "shareholders.csv"}
    assert {p for p in now if before.get(p) != now[p]} == {"loan_guarantees.csv"} | related
    for statement in sorted((region_dir / "statements").rglob("*")):
        if statement.is_file():
            twin = tmp_path / "without" / statement.relative_to(region_dir)
            assert twin.read_bytes() == statement.read_bytes(), statement.name
    old, new = read_labels(tmp_path / "without" / LABELS_FILE), read_labels(region_dir / LABELS_FILE)
    # the refund part (1.6) runs last: its labels follow every other part's in both regions
    refunds_old = [x for x in old if x["case"] in REFUND_CASES]
    refunds_new = [x for x in new if x["case"] in REFUND_CASES]
    assert refunds_new == refunds_old == new[len(new) - len(refunds_new) :]
    old, new = old[: len(old) - len(refunds_old)], new[: len(new) - len(refunds_new)]
    assert new[: len(old)] == old
    assert {x["case"] for x in new[len(old) :]} == {"return_to_guarantor", *RELATED_CASES}
