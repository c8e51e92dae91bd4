"""k-anonymity of record exports: generalise the quasi-identifiers step by step, then suppress what stays small.

A record export lists rows; the contract names the columns that single a person out when combined (identifier
kind `quasi`: dates and districts of datasets about persons; ages where a report derives them). Rows that share
their quasi-identifier values form a group; a group of fewer than k rows could single someone out.

The method is the classic greedy one (Sweeney's Datafly): while more rows sit in small groups than the policy
lets us drop, coarsen the quasi-identifier with the most distinct values by one step of its ladder (a date
becomes its month, then its year; an age its 5-year, then 10-year band; a district code its city, then its
province); when no ladder has a step left, or few enough rows are in small groups, the rows still in groups of
fewer than k are suppressed. Global recoding (a column is coarsened for every row alike) keeps the export
consistent: one column, one granularity. Pure: values in, values out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Each kind's ladder, finest first; the first step is the value as it is.
LADDERS: Mapping[str, tuple[str, ...]] = {
    "date": ("day", "month", "year"),
    "age": ("year", "band5", "band10"),
    "district": ("district", "city", "province"),
}
RULE = "k_anonymity"


def generalise(kind: str, value: Any, step: str) -> str | None:
    """The value at one step of its kind's ladder, as text (None stays None).

    >>> generalise("date", dt.date(2026, 3, 14), "month"), generalise("district", "500101", "city")
    ('2026-03', '500100')
    """
    if value is None:
        return None
    if kind == "date":
        day = value.date() if isinstance(value, dt.datetime) else value
        text = day.isoformat() if isinstance(day, dt.date) else str(day)[:10]
        return {"day": text, "month": text[:7], "year": text[:4]}[step]
    if kind == "age":
        age = int(value)
        width = {"year": 1, "band5": 5, "band10": 10}[step]
        low = age - age % width
        return str(age) if width == 1 else f"{low}-{low + width - 1}"
    if kind == "district":
        code = str(value)
        # GB/T 2260: 2 digits province, 2 city, 2 county; a coarser level zero-fills the rest.
        keep = {"district": 6, "city": 4, "province": 2}[step]
        return code[:keep].ljust(len(code), "0")
    raise ValueError(f"unknown quasi-identifier kind {kind}")


@dataclass(frozen=True)
class Anonymized:
    rows: list[dict[str, Any]]  # the rows kept, quasi-identifiers at the granularity reached
    k: int
    suppressed: int  # rows left out: still in a group of fewer than k after generalising
    generalised: Mapping[
        str, str
    ]  # column -> the step it was coarsened to (columns left as they were absent)


def anonymize(
    rows: Sequence[Mapping[str, Any]],
    quasi: Mapping[str, str],
    k: int,
    max_suppressed: float = 0.05,
    person: str | None = None,
) -> Anonymized:  # callers pass the policy's k_anonymity and k_max_suppressed
    """Rows at a granularity where every group of equal quasi-identifiers describes at least k rows — or, when
    `person` names the column identifying whom a row is about, at least k distinct persons (ten visits of one
    patient are one person, not ten).

    `quasi` maps a column to its kind (`date`, `age`, `district`); `max_suppressed` is the share of rows the
    method may drop instead of coarsening further (the policy's `k_max_suppressed`).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    steps = dict.fromkeys(quasi, 0)

    def shown(row: Mapping[str, Any]) -> tuple[str | None, ...]:
        return tuple(generalise(quasi[c], row.get(c), LADDERS[quasi[c]][steps[c]]) for c in quasi)

    # A row without a person value counts as a person of its own.
    who = [i if person is None or r.get(person) is None else r.get(person) for i, r in enumerate(rows)]
    while True:
        keys = [shown(r) for r in rows]
        sizes = Counter(key for key, _ in set(zip(keys, who, strict=True)))
        small = sum(1 for key in keys if sizes[key] < k)
        if small <= max_suppressed * len(rows):
            break
        open_columns = [c for c in quasi if steps[c] + 1 < len(LADDERS[quasi[c]])]
        if not open_columns:
            break
        # Coarsen the column that splits the rows most (ties by name, so the outcome is repeatable).
        position = {c: i for i, c in enumerate(quasi)}
        distinct = {c: len({key[position[c]] for key in keys}) for c in open_columns}
        steps[max(open_columns, key=lambda c: (distinct[c], c))] += 1
    kept: list[dict[str, Any]] = []
    for row, key in zip(rows, keys, strict=True):
        if sizes[key] >= k:
            kept.append({**row, **dict(zip(quasi, key, strict=True))})
    return Anonymized(
        rows=kept,
        k=k,
        suppressed=len(rows) - len(kept),
        generalised={c: LADDERS[quasi[c]][s] for c, s in steps.items() if s},
    )


def small_cells(sizes: Mapping[str, int], k: int) -> frozenset[str]:
    """Keys of aggregate cells describing fewer than k (but some) persons or enterprises; an empty cell tells
    nothing about anyone and stays."""
    return frozenset(key for key, n in sizes.items() if 0 < n < k)
