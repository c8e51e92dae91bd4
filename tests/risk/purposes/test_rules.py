"""The purpose code list and the built-in matrix, checked line by line against the documented table."""

from __future__ import annotations

import pytest

from jinyu.governance.contracts.foundation import LOAN_PURPOSES
from jinyu.risk.purposes import rules

# docs/risk-tracing.md "Purpose matrix": the only permitted (purpose, use) pairs of the built-in default.
PERMITTED = {
    ("real_estate_development", "real_estate"),
    ("property_purchase", "real_estate"),
    ("equity_acquisition", "securities"),
    ("refinancing", "other_loan"),
    ("refinancing", "intermediary_repayment"),
}


def test_thirteen_purposes_and_the_loans_contract_agree() -> None:
    assert len(rules.PURPOSES) == 13
    assert tuple(rules.PURPOSES) == LOAN_PURPOSES


def test_the_default_matrix_is_the_documented_table() -> None:
    entries = rules.default_entries()
    assert len(entries) == 13 * 5
    assert {(e.purpose, e.kind) for e in entries if not e.prohibited} == PERMITTED
    assert rules.problems(entries) == []


@pytest.mark.parametrize(
    ("purpose", "kind", "prohibited"),
    [
        ("working_capital", "real_estate", True),
        ("real_estate_development", "real_estate", False),
        ("real_estate_development", "securities", True),
        ("refinancing", "other_loan", False),
        ("refinancing", "shell", True),
        ("not_a_code", "securities", True),  # unknown purposes are held to the strictest line
    ],
)
def test_lookup_and_citation(purpose: str, kind: str, prohibited: bool) -> None:
    assert rules.DEFAULT.is_prohibited(purpose, kind) is prohibited
    cite = rules.DEFAULT.cite(purpose, kind)
    assert cite.startswith("purpose-matrix v0: ")
    if purpose in rules.PURPOSES:
        assert cite == f"purpose-matrix v0: {purpose}×{kind}"


def test_problems_name_every_bad_line() -> None:
    entries = rules.default_entries()
    bad = [
        *entries[1:],
        rules.Entry("mining", "securities", True),
        rules.Entry("trade", "gold", True),
        entries[2],
    ]
    found = dict(rules.problems(bad))
    assert found[f"entries[{len(entries) - 1}].purpose"].endswith("'mining'")
    assert found[f"entries[{len(entries)}].kind"].endswith("'gold'")
    assert "given twice" in found[f"entries[{len(entries) + 1}]"]
    assert found["entries"].endswith("working_capital×securities")
