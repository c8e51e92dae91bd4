"""Pure chain rules, table-driven with hand-computed values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jinyu.chain import definitions, rules
from jinyu.chain.errors import ChainNotFound

P = definitions.load().parameters
D = Decimal


@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [
        ("2024-01", -1, "2023-12"),
        ("2024-12", 1, "2025-01"),
        ("2024-03", -24, "2022-03"),
        ("2023-11", 14, "2025-01"),
    ],
)
def test_add_months(month: str, n: int, expected: str) -> None:
    assert rules.add_months(month, n) == expected
    assert rules.months_between(month, expected) == n


def test_definitions_map_industries_to_segments() -> None:
    nd = definitions.load().chain("new_display")
    assert nd.segment_codes == ("materials", "panels", "modules", "devices", "dealers")
    assert rules.segment_for(nd, "C3974") == "panels"
    assert rules.segment_for(nd, "K7020") is None
    with pytest.raises(ChainNotFound):
        definitions.load().chain("steel")


def test_net_flows_leave_out_flows_inside_a_segment() -> None:
    rows = [
        {
            "month": "2024-01",
            "from_segment": "panels",
            "to_segment": "materials",
            "total_amount": D("100.00"),
        },
        {"month": "2024-01", "from_segment": "panels", "to_segment": "panels", "total_amount": D("999.00")},
        {"month": "2024-01", "from_segment": "modules", "to_segment": "panels", "total_amount": D("70.50")},
    ]
    net = rules.net_flows(rows)
    assert net[("2024-01", "panels")] == {"inflow": D("70.50"), "outflow": D("100.00"), "net": D("-29.50")}
    assert net[("2024-01", "materials")]["net"] == D("100.00")


def test_links_decay_by_age() -> None:
    rows = [
        {"month": "2024-06", "payer": "a", "payee": "b", "total_amount": D("1000.00")},
        {"month": "2024-04", "payer": "a", "payee": "b", "total_amount": D("1000.00")},  # × 0.64
        {"month": "2024-07", "payer": "a", "payee": "b", "total_amount": D("5.00")},  # after as-of: ignored
    ]
    assert rules.decayed_links(rows, "2024-06", D("0.8")) == {("a", "b"): D("1640.00")}


def test_links_decay_per_month_and_pair() -> None:
    # the factor is found once per month (rules.decayed_links): each month's rows, any pair, get their own
    rows = [
        {"month": "2024-05", "payer": "a", "payee": "b", "total_amount": D("100.00")},  # × 0.8
        {"month": "2024-03", "payer": "b", "payee": "c", "total_amount": "10.05"},  # × 0.512 = 5.1456
        {"month": "2024-05", "payer": "b", "payee": "c", "total_amount": 2},  # × 0.8: an int amount
        {"month": "2024-08", "payer": "b", "payee": "c", "total_amount": D("9.00")},  # after as-of: ignored
        {"month": "2024-03", "payer": "a", "payee": "b", "total_amount": D("0.01")},  # × 0.512 = 0.00512
    ]
    assert rules.decayed_links(rows, "2024-06", D("0.8")) == {
        ("a", "b"): D("80.01"),  # 80.00512 half up
        ("b", "c"): D("6.75"),  # 5.1456 + 1.6 = 6.7456
    }


BASE = {
    "status": "active", "headcount_now": 80, "headcount_before": 100, "tax_12m": D("70.00"),
    "tax_prev_12m": D("100.00"), "open_cases": 0, "paying_months": 4,
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "flags"),
    [
        ({}, ()),  # a 20% head-count fall and a 30% tax fall are still within the limits
        ({"headcount_now": 79}, ("headcount_drop",)),
        ({"tax_12m": D("69.99")}, ("tax_drop",)),
        ({"headcount_now": None}, ("no_headcount",)),
        (
            {"status": "revoked", "open_cases": 2, "paying_months": 3},
            ("deregistered", "judicial", "irregular_payments"),
        ),
        ({"tax_prev_12m": D("0.00"), "tax_12m": D("0.00")}, ()),
    ],
)
def test_health_flags(change: dict[str, object], flags: tuple[str, ...]) -> None:
    assert rules.health_flags({**BASE, **change}, P).flags == flags


def test_growth_and_share() -> None:
    assert rules.growth(D("50"), D("31")) == D("0.6129")
    assert rules.growth(D("5"), D("0")) is None
    assert rules.share(1, 3) == D("0.3333") and rules.share(1, 0) is None
    assert rules.quarter_of("2024-12") == "2024-Q4"
    assert rules.term_class(12, P) == "short" and rules.term_class(13, P) == "medium_long"
