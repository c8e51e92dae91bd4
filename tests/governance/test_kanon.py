"""k-anonymity of record exports (generalise, then suppress), by hand-computed cases."""

from __future__ import annotations

import datetime as dt

import pytest

from jinyu.governance.policy.kanon import anonymize, generalise, small_cells


@pytest.mark.parametrize(
    ("kind", "value", "step", "expected"),
    [
        ("date", dt.date(2026, 3, 14), "day", "2026-03-14"),
        ("date", dt.datetime(2026, 3, 14, 23, 59, tzinfo=dt.UTC), "month", "2026-03"),
        ("date", "2026-03-14", "year", "2026"),
        ("age", 37, "year", "37"),
        ("age", 37, "band5", "35-39"),
        ("age", 40, "band10", "40-49"),
        ("district", "500101", "district", "500101"),
        ("district", "500101", "city", "500100"),
        ("district", "500101", "province", "500000"),
        ("date", None, "month", None),
    ],
)
def test_generalise_climbs_each_ladder(kind: str, value: object, step: str, expected: str | None) -> None:
    assert generalise(kind, value, step) == expected


def test_dates_coarsen_to_the_month_when_that_makes_groups_of_k() -> None:
    # 5 enrolments on 5 different days of March and 5 of April: no day holds 5; each month does.
    days = [dt.date(2026, 3, d) for d in range(1, 6)] + [dt.date(2026, 4, d) for d in range(1, 6)]
    out = anonymize([{"id": i, "enrolled_on": d} for i, d in enumerate(days)], {"enrolled_on": "date"}, 5)
    assert out.suppressed == 0
    assert out.generalised == {"enrolled_on": "month"}
    assert [r["enrolled_on"] for r in out.rows] == ["2026-03"] * 5 + ["2026-04"] * 5
    assert [r["id"] for r in out.rows] == list(range(10))  # other columns untouched


def test_the_most_splitting_column_coarsens_first_then_the_rest_is_suppressed() -> None:
    rows = [
        {"district": "500101", "on": dt.date(2026, 3, 1)},
        {"district": "500101", "on": dt.date(2026, 3, 2)},
        {"district": "500101", "on": dt.date(2026, 3, 3)},
        {"district": "500102", "on": dt.date(2026, 3, 4)},
        {"district": "500102", "on": dt.date(2026, 3, 5)},
        {"district": "500103", "on": dt.date(2025, 12, 6)},
    ]
    # Day: 6 groups of 1. `on` has 6 values, district 3: `on` -> month; groups 3, 2, 1 (3 rows small).
    # Then `on` has 2 values, district 3: district -> city; groups (2026-03, 500100) 5 and (2025-12, ...) 1.
    # One small row of six is within the 20% the caller allows: it is suppressed.
    out = anonymize(rows, {"district": "district", "on": "date"}, 3, max_suppressed=0.2)
    assert out.generalised == {"district": "city", "on": "month"}
    assert out.suppressed == 1
    assert out.rows == [{"district": "500100", "on": "2026-03"}] * 5


def test_when_no_ladder_is_left_the_small_groups_are_suppressed() -> None:
    out = anonymize([{"on": dt.date(2026, 1, 1)}, {"on": dt.date(2025, 1, 1)}], {"on": "date"}, 5)
    assert out.rows == [] and out.suppressed == 2 and out.generalised == {"on": "year"}


def test_k_of_one_leaves_the_rows_as_they_are() -> None:
    out = anonymize([{"age": 41}], {"age": "age"}, 1)
    assert out.rows == [{"age": "41"}] and out.suppressed == 0 and out.generalised == {}


def test_small_cells_are_the_nonempty_ones_below_k() -> None:
    assert small_cells({"a": 0, "b": 3, "c": 7, "d": 5}, 5) == {"b"}


def test_k_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be"):
        anonymize([], {}, 0)


def test_the_contracts_name_the_quasi_identifiers() -> None:
    from jinyu.governance.classification import quasi_identifiers
    from jinyu.governance.contracts import CONTRACTS

    assert quasi_identifiers(CONTRACTS["accounts"]) == {"opened_on": "date"}
    assert quasi_identifiers(CONTRACTS["claim_visits"]) == {"setl_time": "date"}
    assert quasi_identifiers(CONTRACTS["enterprises"]) == {}  # not about persons


def test_the_policy_carries_k_and_the_suppression_share() -> None:
    from jinyu.governance.policy.protect import current

    assert (current().k_anonymity, current().k_max_suppressed) == (5, 0.05)


@pytest.mark.parametrize("share", [1, -0.1, "5%", True])
def test_a_bad_suppression_share_is_refused(share: object) -> None:
    from importlib import resources

    import yaml

    from jinyu.core.auth import Role
    from jinyu.governance.policy.rules import PolicyInvalid, parse

    text = resources.files("jinyu.governance.policy").joinpath("policy.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text) | {"k_max_suppressed": share}
    with pytest.raises(PolicyInvalid, match="k_max_suppressed"):
        parse(doc, [r.value for r in Role])
