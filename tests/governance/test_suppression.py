"""Small-cell suppression, by hand-computed cases."""

from __future__ import annotations

import pytest

from jinyu.governance.policy.protect import current
from jinyu.governance.policy.suppression import Cell, suppress


def cells(**persons: int) -> list[Cell]:
    return [Cell(k, n) for k, n in persons.items()]


def test_no_small_cell_suppresses_nothing() -> None:
    assert suppress(cells(a=5, b=9), 5).keys == frozenset()


def test_one_small_cell_takes_the_next_smallest_with_it() -> None:
    # 'a' alone could be recovered from the total minus b and c: b (the next smallest) goes too.
    out = suppress(cells(a=2, b=6, c=40), 5)
    assert out.keys == {"a", "b"} and not out.totals_withheld


def test_small_cells_that_together_reach_k_need_no_partner() -> None:
    assert suppress(cells(a=2, b=3, c=40), 5).keys == {"a", "b"}


def test_a_report_of_fewer_than_k_persons_withholds_its_totals() -> None:
    out = suppress(cells(a=1, b=2), 5)
    assert out.keys == {"a", "b"} and out.totals_withheld


def test_k_comes_from_the_policy_and_must_be_positive() -> None:
    assert current().k_anonymity == 5
    with pytest.raises(ValueError):
        suppress(cells(a=1), 0)
