"""`tax_monthly.tax_within_sales`: quarterly filers pay a quarter's tax in its last month, so that record is
held to the quarter's declared sales, every other record to its own month's. Counted by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.errors import InvalidInput
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.queries import run_plan
from jinyu.governance.rules import Rule
from jinyu.governance.service import standard_rules
from jinyu.governance.sqlplan import compile_plan
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import uscc

A, B, C, D = (uscc(7000 + i) for i in range(4))
RECORDS = [  # (taxpayer, period, sales declared, tax paid)
    (A, "2026-07", "100", "0"), (A, "2026-08", "200", "0"), (A, "2026-09", "0", "9"),  # quarterly: 9 ≤ 300
    (B, "2026-07", "100", "5"), (B, "2026-08", "50", "60"), (B, "2026-09", "10", "20"),  # monthly: 2 fail
    (C, "2026-10", "10", "0"), (C, "2026-11", "10", "0"), (C, "2026-12", "10", "40"),  # quarterly: 40 > 30
    (D, "2026-12", "5", "6"),  # registered in December: its quarter is one month, 6 > 5
]  # fmt: skip
EXPECTED = {("2026-08", 1), ("2026-09", 1), ("2026-12", 2), ("2026-07", 0), ("2026-10", 0), ("2026-11", 0)}


def _run(tmp_path: Path, rule: Rule) -> set[tuple[str, int]]:
    lake = Lake(tmp_path / "lake")
    rows = [
        {"uscc": u, "period": p, "sales_declared": Decimal(s), "tax_paid": Decimal(t)}
        for u, p, s, t in RECORDS
    ]
    table = pa.Table.from_pylist(rows, schema=arrow_schema(CONTRACTS["tax_monthly"]))
    lake.append("tax_monthly", table, "T1", partition_by="period", sort_by=("uscc", "period"))
    engine = DuckDBEngine(lake.root)
    try:
        plan = compile_plan("tax_monthly", [rule], {"tax_monthly"}, True)
        out = run_plan(engine, plan, {})
    finally:
        engine.close()
    return {(r["period"], int(r["r0"])) for r in out}


def test_quarterly_filers_are_held_to_the_quarters_sales(tmp_path: Path) -> None:
    [rule] = [r for r in standard_rules() if r.code == "tax_monthly.tax_within_sales.expression"]
    assert (rule.kind, rule.version) == ("within_filing_period", 2)
    assert _run(tmp_path, rule) == EXPECTED


def test_the_former_month_by_month_rule_flagged_a_quarterly_filer(tmp_path: Path) -> None:
    old = Rule.model_validate(
        {"code": "tax_monthly.tax.old", "dataset": "tax_monthly", "kind": "expression", "title": "t",
         "condition": "tax_paid <= sales_declared"}
    )  # fmt: skip
    found = _run(tmp_path, old)
    assert ("2026-09", 2) in found and ("2026-12", 2) in found  # A's quarter-end counted as a failure


def test_the_kind_needs_a_month_partitioned_dataset() -> None:
    with pytest.raises(InvalidInput):
        Rule.model_validate(
            {"code": "loans.amount.period", "dataset": "loans", "kind": "within_filing_period", "title": "t",
             "column": "amount", "total_of": "amount", "columns": ["borrower_uscc"]}
        )  # fmt: skip
