"""DebtRank on hand-computed networks."""

from __future__ import annotations

from decimal import Decimal

from jinyu.chain.contagion import debtrank

D = Decimal


def _table(payments: dict[tuple[str, str], Decimal], failing: str) -> list[tuple[str, int, str, str]]:
    return [(e.uscc, e.tier, str(e.distress), str(e.loss)) for e in debtrank(payments, failing)]


def test_second_tier_distress_is_scaled_by_the_first() -> None:
    # s1 takes 300 from f and 100 from z: W = 0.75, h = 0.75. s2 takes 40 of its 200 from s1: W = 0.2,
    # h = 0.2 × 0.75 = 0.15, loss 30. z is never hit (nobody it depends on fails).
    payments = {("f", "s1"): D("300"), ("z", "s1"): D("100"), ("s1", "s2"): D("40"), ("z", "s2"): D("160")}
    assert _table(payments, "f") == [("s1", 1, "0.750000", "300.00"), ("s2", 2, "0.150000", "30.00")]


def test_a_cycle_passes_distress_on_once() -> None:
    # f → a (all of a's takings), a → b (half of b's), b → a (a quarter of ... a's 400: 100/400).
    # Round 1: a h = 300/400 = 0.75. Round 2: b h = 0.5 × 0.75 = 0.375. Round 3: b → a adds 0.25 × 0.375
    # to a, but a is inactive by then, so nothing more moves: a stays 0.75.
    payments = {("f", "a"): D("300"), ("b", "a"): D("100"), ("a", "b"): D("50"), ("y", "b"): D("50")}
    assert _table(payments, "f") == [("a", 1, "0.750000", "300.00"), ("b", 2, "0.375000", "37.50")]


def test_distress_is_capped_at_one_and_self_payments_ignored() -> None:
    payments = {("f", "s"): D("100"), ("g", "s"): D("1"), ("f", "f"): D("9")}
    hit = debtrank(payments, "f")
    assert [(e.uscc, e.exposure, e.buffer, e.loss) for e in hit] == [
        ("s", D("100.00"), D("101.00"), D("100.00"))
    ]
    assert debtrank(payments, "nobody") == []
