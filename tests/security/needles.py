"""The raw personal values a synthetic region planted, and a scanner that finds them in text.

Needles come from the region generator's own files (what providers send): resident IDs, phones (mobile
and landline) and full names of persons. A name that also occurs in the region's public text (a company
name, an address) is not a needle: it may legitimately be shown.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from jinyu.governance.contracts import CONTRACTS, Level

# (dataset, id column, name column, (type column, person value) or None)
PERSON_COLUMNS = (
    ("enterprises", "legal_rep_id", "legal_rep_name", None),
    ("shareholders", "holder_id", "holder_name", ("holder_type", "person")),
    ("accounts", "owner_id", "owner_name", ("owner_type", "person")),
    ("loan_guarantees", "guarantor_id", "guarantor_name", ("guarantor_type", "person")),
    ("customer_managers", None, "name", None),
    ("claim_insured", "person_id", None, None),
    ("claim_visits", "person_id", None, None),
)
PHONE_COLUMNS = (("enterprises", "phone"), ("customer_managers", "phone"))
ID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9A-Za-z])(?:1[0-9]{10}|0[0-9]{2,3}-[0-9]{7,8})(?![0-9A-Za-z])")
CJK_RE = re.compile(r"[\u4e00-\u9fff]{2,}")


def rows(region: Path, dataset: str) -> Iterator[dict[str, Any]]:
    for path in (region / f"{dataset}.csv", region / f"{dataset}.parquet"):
        if path.suffix == ".csv" and path.exists():
            with path.open(encoding="utf-8", newline="") as f:
                yield from csv.DictReader(f)
        elif path.exists():
            yield from pq.read_table(path).to_pylist()


@dataclass
class Needles:
    ids: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def found_in(self, text: str) -> list[str]:
        hits = [v for v in ID_RE.findall(text) if v in self.ids]
        hits += [v for v in PHONE_RE.findall(text) if v in self.phones]
        for run in set(CJK_RE.findall(text)):
            for size in (2, 3, 4):
                hits += [
                    run[i : i + size] for i in range(len(run) - size + 1) if run[i : i + size] in self.names
                ]
        return hits


def planted(region: Path) -> Needles:
    n = Needles()
    for dataset, id_col, name_col, only in PERSON_COLUMNS:
        for r in rows(region, dataset):
            if only and r[only[0]] != only[1]:
                continue
            if id_col and r[id_col]:
                n.ids.add(r[id_col])
            if name_col and r[name_col]:
                n.names.add(r[name_col])
    for dataset, col in PHONE_COLUMNS:
        n.phones |= {r[col] for r in rows(region, dataset) if r[col]}
    public = "\n".join(_public_text(region))
    n.names = {name for name in n.names if name not in public}
    return n


def _public_text(region: Path) -> Iterable[str]:
    """Every public or internal text cell of the region, except the person columns themselves."""
    person_cols = {(d, c) for d, i, m, _ in PERSON_COLUMNS for c in (i, m) if c}
    for contract in CONTRACTS.values():
        cols = [c.name for c in contract.columns if c.level in (Level.PUBLIC, Level.INTERNAL)]
        cols = [c for c in cols if (contract.name, c) not in person_cols]
        for r in rows(region, contract.name):
            yield from (str(r[c]) for c in cols if r.get(c))
