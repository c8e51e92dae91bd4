"""Contract versions and column classification."""

from __future__ import annotations

import pytest

from jinyu.core.auth import SYSTEM
from jinyu.governance import versions
from jinyu.governance.classification import classify
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.service import contract_versions


def test_the_recorded_versions_match_the_live_contracts() -> None:
    """Changing a contract needs a recorded version: `jinyu governance contracts --record`."""
    known = versions.history()
    for name, contract in CONTRACTS.items():
        latest = known[name][-1]["columns"]
        assert latest == versions.columns_of(contract), (
            name,
            versions.diff(latest, versions.columns_of(contract)),
        )
    assert all(v.recorded for v in contract_versions(SYSTEM))


def test_a_dropped_or_retyped_column_is_a_breaking_version() -> None:
    old = {"a": "string", "b": "int", "c": "date"}
    change = versions.diff(old, {"a": "string", "b": "decimal", "d": "bool"})
    assert (change.added, change.dropped, change.retyped) == (["d"], ["c"], {"b": ("int", "decimal")})
    assert change.breaking
    added = versions.diff(old, old | {"e": "string"})
    assert added.added == ["e"] and not added.breaking
    assert versions.diff(old, dict(old)).empty


def test_recording_appends_a_version_with_its_diff() -> None:
    known = versions.history()
    loans = dict(known["loans"][-1]["columns"])
    loans.pop("term_months")
    loans["legacy"] = "string"
    older = known | {"loans": [{"version": 1, "columns": loans}]}
    recorded = versions.record(older)["loans"]
    assert [v["version"] for v in recorded] == [1, 2]
    assert (
        recorded[1]["breaking"]
        and recorded[1]["dropped"] == ["legacy"]
        and recorded[1]["added"] == ["term_months"]
    )


@pytest.mark.parametrize(
    ("dataset", "column", "expected"),
    [
        ("enterprises", "legal_rep_id", (True, "C2", 3, "direct")),
        ("enterprises", "uscc", (False, None, 1, "none")),
        ("enterprises", "address", (False, None, 2, "none")),
        ("accounts", "account_no", (True, "C2", 3, "direct")),
        ("accounts", "opened_on", (True, "C1", 2, "quasi")),
        ("claim_visits", "dise_codg", (True, "C2", 4, "none")),
        ("claim_visits", "medfee_sumamt", (True, "C2", 3, "none")),
        ("loans", "amount", (False, None, 3, "none")),
        ("shareholders", "holder_id", (True, "C2", 3, "direct")),
    ],
)
def test_columns_are_classified_by_the_documented_rules(dataset: str, column: str, expected: tuple) -> None:  # type: ignore[type-arg]
    c = classify(CONTRACTS[dataset], CONTRACTS[dataset].column(column))
    assert (c.personal, c.jrt0171, c.jrt0197, c.identifier) == expected


def test_every_personal_level_column_is_classified_personal() -> None:
    for contract in CONTRACTS.values():
        for col in contract.columns:
            c = classify(contract, col)
            assert c.jrt0197 in range(1, 6) and c.jrt0171 != "C3"
            if col.level.value == "personal" or col.protect is not None:
                assert c.personal and c.jrt0171 == "C2", (contract.name, col.name)
