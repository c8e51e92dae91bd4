"""Small-cell suppression of aggregate reports (k-anonymity on the report's grouping key), pure.

A cell describing fewer than k distinct persons is suppressed. Because a report also shows its totals, one
suppressed cell could be recovered by subtraction: while the suppressed cells together describe fewer than k
persons, the next smallest cell is suppressed too (complementary suppression). When the whole report describes
fewer than k persons, its totals are withheld as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    key: str
    persons: int  # distinct persons the cell describes


@dataclass(frozen=True)
class Suppressed:
    keys: frozenset[str]
    totals_withheld: bool


def suppress(cells: Sequence[Cell], k: int) -> Suppressed:
    if k < 1:
        raise ValueError("k must be at least 1")
    total = sum(c.persons for c in cells)
    if total < k:
        return Suppressed(frozenset(c.key for c in cells), totals_withheld=True)
    ordered = sorted(cells, key=lambda c: (c.persons, c.key))
    hidden = [c for c in ordered if c.persons < k]
    rest = [c for c in ordered if c.persons >= k]
    # Only a positive number of hidden persons can be singled out by subtraction.
    while hidden and sum(c.persons for c in hidden) < k and rest:
        hidden.append(rest.pop(0))
    return Suppressed(frozenset(c.key for c in hidden), totals_withheld=False)
