"""Which demo bank user can trace which planted loan: printed by `jinyu demo` so a newcomer knows whom to log in
as. A user sees a loan when the loan was booked in the user's bank tree — the tracing service's own rule
(`tracing_bank_tree` on the lake), not a copy of it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from jinyu.analytics import DuckDBEngine
from jinyu.config import Settings
from jinyu.core.runtime import unit_of_work
from jinyu.party import service as party
from jinyu.risk.tracing import queries

BANK_ROLES = ("bank_hq_risk", "bank_branch_officer")


@dataclass(frozen=True)
class PlantedLoan:
    loan_id: str
    case: str
    analysis: str
    users: tuple[str, ...]


def planted_loans(settings: Settings, users: list[tuple[str, str, str]]) -> list[PlantedLoan]:
    """`users`: (username, role, org id) of the demo users; the planted cases of the region's risk labels, each
    with the bank users who may trace it."""
    region = settings.data_dir / "region"
    labels, loans = region / "risk_labels.csv", region / "loans.parquet"
    if not labels.exists() or not loans.exists():
        return []
    booked = dict(
        zip(*pq.read_table(loans, columns=["loan_id", "bank_code"]).to_pydict().values(), strict=True)
    )
    engine = DuckDBEngine(settings.lake_dir)
    trees: dict[str, set[str]] = {}
    with unit_of_work(settings) as session:
        for username, role, org_id in users:
            org = party.resolve_org(session, org_id)
            if role in BANK_ROLES and org is not None:
                trees[username] = queries.bank_tree(engine, org.code)
    return [
        PlantedLoan(
            row["loan_id"],
            row["case"],
            row["analysis"],
            tuple(u for u, tree in trees.items() if booked.get(row["loan_id"]) in tree),
        )
        for row in _rows(labels)
    ]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
