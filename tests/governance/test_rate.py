"""The anomaly rate, freshness, drift and the remediation lifecycle: hand-computed cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jinyu.core.errors import Conflict
from jinyu.governance import lifecycle
from jinyu.governance.rate import ALL_RULES, Cell, drift, freshness, percent, with_rejections
from jinyu.governance.rules import Rule
from jinyu.governance.sqlplan import compile_plan


@pytest.mark.parametrize(
    ("failed", "checked", "pct"),
    [(3, 10_000, "0.0300"), (7, 1000, "0.7000"), (1, 3, "33.3333"), (2, 3, "66.6667"), (0, 5, "0.0000"),
     (1, 200_000, "0.0005"), (1, 2_000_000, "0.0001"), (1, 2_000_001, "0.0000")],
)  # fmt: skip
def test_percent_has_four_decimals_rounded_half_up(failed: int, checked: int, pct: str) -> None:
    assert percent(failed, checked) == Decimal(pct)


def test_nothing_checked_has_no_rate() -> None:
    assert percent(0, 0) is None


def test_outstanding_rejections_are_checked_and_anomalous() -> None:
    lake = [Cell("P", "2026-10", ALL_RULES, 0, 8, 2), Cell("P", "2026-10", "r.one", 1, 8, 2)]
    out = with_rejections(lake, {("P", "2026-10", "below_min"): 2, ("P", "2026-11", "bad_date"): 1})
    assert Cell("P", "2026-10", ALL_RULES, 0, 10, 4) in out
    assert Cell("P", "2026-10", "r.one", 1, 10, 2) in out
    assert Cell("P", "2026-10", "ingest.below_min", 0, 10, 2) in out
    assert Cell("P", "2026-11", ALL_RULES, 0, 1, 1) in out  # a month with only refused records


def _rule(**kw: object) -> Rule:
    return Rule.model_validate({"dataset": "tax_monthly", "title": "t / t", **kw})


def test_freshness_is_judged_per_provider_from_the_latest_period() -> None:
    rule = _rule(code="tax_monthly.period.fresh", kind="freshness", column="period", max_age_days=62)
    plan = compile_plan("tax_monthly", [rule], {"tax_monthly"}, partitioned=True)
    rows = [{"period": "2026-09", "f0": "2026-09"}, {"period": "2026-08", "f0": "2026-08"}]
    [verdict] = freshness(plan, rows, "TAX", dt.date(2026, 12, 1))
    assert verdict == {
        "rule": rule.code,
        "provider": "TAX",
        "latest": "2026-09-30",
        "age_days": 62,
        "stale": False,
    }
    [late] = freshness(plan, rows, "TAX", dt.date(2026, 12, 2))
    assert late["stale"] and late["age_days"] == 63


def test_drift_compares_each_month_with_the_one_before() -> None:
    rule = _rule(
        code="tax_monthly.sales.drift", kind="drift", column="sales_declared", stat="mean", bound=0.5
    )
    plan = compile_plan("tax_monthly", [rule], {"tax_monthly"}, partitioned=True)
    rows = [
        {"period": "2026-01", "d0_null": 0, "d0_n": 4, "d0_sum": Decimal("400")},  # mean 100
        {"period": "2026-02", "d0_null": 1, "d0_n": 2, "d0_sum": Decimal("300")},  # 150: +50 %, within
        {"period": "2026-03", "d0_null": 0, "d0_n": 1, "d0_sum": Decimal("60")},  # 60: -60 %, beyond
    ]
    found = drift(plan, rows, "TAX")
    assert [(d["period"], d["change"], d["drifted"]) for d in found] == [
        ("2026-02", "0.5000", False),
        ("2026-03", "0.6000", True),
    ]


def test_the_lifecycle_allows_only_its_moves() -> None:
    lifecycle.check_move("open", "assigned", "manager")
    lifecycle.check_move("assigned", "fixed", "provider")
    refused = [
        ("open", "assigned", "provider"),
        ("fixed", "verified", "provider"),
        ("verified", "assigned", "manager"),
        ("assigned", "verified", "manager"),
    ]
    for current, target, actor in refused:
        with pytest.raises(Conflict):
            lifecycle.check_move(current, target, actor)
    assert lifecycle.after_check("fixed", 2) == "assigned"  # still failing: back to the provider
    assert lifecycle.after_check("assigned", 0) == "verified"
    assert lifecycle.after_check("open", 5) == "open"
    assert lifecycle.after_check("verified", 9) == "verified"
