"""The one-scan SQL of a rule set counts what a plain Python reading of each rule counts, row by row, on
seeded rows full of the awkward cases (nulls, blanks, duplicates, bounds exactly met, unknown references);
and Spark counts the same (marked `spark`)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.queries import run_plan
from jinyu.governance.rules import Rule
from jinyu.governance.sqlplan import compile_plan
from jinyu.ingest.pipeline import arrow_schema

AS_OF = dt.date(2026, 12, 6)
TOMORROW = AS_OF + dt.timedelta(days=1)
USCC = [f"91500000MA00000{i:02d}X" for i in range(12)]


def rule(code: str, dataset: str, kind: str, **kw: Any) -> Rule:
    return Rule.model_validate({"code": code, "dataset": dataset, "kind": kind, "title": code, **kw})


RULES = [
    rule("enterprises.address.nn", "enterprises", "not_null", column="address"),
    rule("enterprises.name.pat", "enterprises", "pattern", column="name", pattern="企业[0-9]{2}"),
    rule("enterprises.status.set", "enterprises", "in_set", column="status", values=["active"]),
    rule("enterprises.cap.range", "enterprises", "range", column="registered_capital", min="100", max="5000"),
    rule("enterprises.est.range", "enterprises", "range", column="established_on", min="2000-01-01", max="as_of"),
    rule("enterprises.district.uniq", "enterprises", "unique", columns=["district_code"]),
    rule("tax_monthly.half.expr", "tax_monthly", "expression", condition="tax_paid * 2 <= sales_declared"),
    rule("tax_monthly.key.uniq", "tax_monthly", "unique", columns=["uscc", "period"]),
    rule("tax_monthly.uscc.ref", "tax_monthly", "reference", column="uscc", target="enterprises.uscc"),
    rule("tax_monthly.paid.range", "tax_monthly", "range", column="tax_paid", min="0"),
]  # fmt: skip


def _enterprises(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i, code in enumerate(USCC[:8]):
        rows.append(
            {
                "uscc": code,
                "name": rng.choice([f"企业{i:02d}", f"企业{i}", "公司"]),
                "industry_code": "C3974",
                "district_code": rng.choice(["500101", "500103", "500104", "500105", "500106", "500107"]),
                "registered_capital": Decimal(rng.choice(["99.99", "100", "5000", "5000.01", "700"])),
                "established_on": rng.choice([dt.date(1999, 12, 31), dt.date(2000, 1, 1), AS_OF, TOMORROW]),
                "address": rng.choice([None, "", "   ", "渝中区"]),
                "phone": None, "legal_rep_id": "t", "legal_rep_name": "张*",
                "status": rng.choice(["active", "revoked", None]),
            }
        )  # fmt: skip
    return rows


def _tax(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for _ in range(60):
        sales = rng.choice([None, Decimal("0"), Decimal("100"), Decimal("1000.50")])
        paid = rng.choice([Decimal("-1"), Decimal("0"), Decimal("50"), Decimal("500.25"), Decimal("600")])
        rows.append({"uscc": rng.choice(USCC), "period": rng.choice(["2026-01", "2026-02", "2026-03"]),
                     "sales_declared": sales, "tax_paid": paid})  # fmt: skip
    return rows


def _write(lake: Lake, dataset: str, rows: list[dict[str, Any]]) -> None:
    contract = CONTRACTS[dataset]
    # Nullable throughout: the SQL must also be right on values ingestion would never let through.
    schema = pa.schema([f.with_nullable(True) for f in arrow_schema(contract)])
    table = pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
    lake.append(dataset, table, "L1", partition_by=contract.partition_by, sort_by=contract.sort_by)


def _in_range(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


# The oracle: each rule read plainly, row by row. Returns per row whether it fails.
ORACLE: dict[str, Callable[[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]], bool]] = {
    "enterprises.address.nn": lambda r, _, __: r["address"] is None or r["address"].strip() == "",
    "enterprises.name.pat": lambda r, _, __: r["name"] is not None and not re.fullmatch("企业[0-9]{2}", r["name"]),
    "enterprises.status.set": lambda r, _, __: r["status"] is not None and r["status"] != "active",
    "enterprises.cap.range": lambda r, _, __: not _in_range(r["registered_capital"], 100, 5000),
    "enterprises.est.range": lambda r, _, __: not _in_range(r["established_on"], dt.date(2000, 1, 1), AS_OF),
    "enterprises.district.uniq": lambda r, rows, _: sum(x["district_code"] == r["district_code"] for x in rows) > 1,
    "tax_monthly.half.expr": lambda r, _, __: r["sales_declared"] is not None
    and not r["tax_paid"] * 2 <= r["sales_declared"],
    "tax_monthly.key.uniq": lambda r, rows, _: [(x["uscc"], x["period"]) for x in rows].count((r["uscc"], r["period"]))
    > 1,
    "tax_monthly.uscc.ref": lambda r, _, ents: r["uscc"] not in {e["uscc"] for e in ents},
    "tax_monthly.paid.range": lambda r, _, __: r["tax_paid"] < 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, dict[str, list[dict[str, Any]]]]:
    rng = random.Random(20261206)
    lake = Lake(Path(tmp_path_factory.mktemp("gov")) / "lake")
    rows = {"enterprises": _enterprises(rng), "tax_monthly": _tax(rng)}
    for dataset, data in rows.items():
        _write(lake, dataset, data)
    return lake, rows


def expected(dataset: str, rows: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], int]:
    """(period, rule code) -> failing rows, with '*' for rows failing any rule."""
    counts: Counter[tuple[str, str]] = Counter()
    own = [r for r in RULES if r.dataset == dataset]
    for row in rows[dataset]:
        period = row.get("period", "-")
        failed = [r.code for r in own if ORACLE[r.code](row, rows[dataset], rows["enterprises"])]
        counts.update((period, code) for code in failed)
        counts[(period, "*")] += bool(failed)
        counts[(period, "n")] += 1
    return dict(counts)


def measured(engine: Any, lake: Lake, dataset: str) -> dict[tuple[str, str], int]:
    plan = compile_plan(
        dataset, RULES, {"enterprises", "tax_monthly"}, CONTRACTS[dataset].partition_by is not None
    )
    out: Counter[tuple[str, str]] = Counter()
    for row in run_plan(engine, plan, {"as_of": AS_OF}):
        period = row.get("period", "-")
        out[(period, "n")] += row["n_rows"]
        out[(period, "*")] += row["n_anomalous"]
        for i, r in enumerate(plan.row_rules):
            out[(period, r.code)] += row[f"r{i}"]
    return {k: v for k, v in out.items() if v}


@pytest.fixture
def duck(region: tuple[Lake, Any]) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(region[0].root)
    yield engine
    engine.close()


@pytest.mark.parametrize("dataset", ["enterprises", "tax_monthly"])
def test_one_scan_counts_what_each_rule_says(
    region: tuple[Lake, Any], duck: DuckDBEngine, dataset: str
) -> None:
    lake, rows = region
    want = expected(dataset, rows)
    assert measured(duck, lake, dataset) == want


def test_every_rule_of_the_fixture_fails_somewhere(region: tuple[Lake, Any]) -> None:
    """The oracle comparison means something only if each rule both fails and passes on some rows."""
    _, rows = region
    for r in RULES:
        verdicts = {ORACLE[r.code](row, rows[r.dataset], rows["enterprises"]) for row in rows[r.dataset]}
        assert verdicts == {True, False}, r.code


@pytest.mark.spark
@pytest.mark.parametrize("dataset", ["enterprises", "tax_monthly"])
def test_spark_counts_the_same(region: tuple[Lake, Any], dataset: str) -> None:
    pytest.importorskip("pyspark")
    from jinyu.analytics import SparkEngine

    lake, rows = region
    assert measured(SparkEngine(lake.root), lake, dataset) == expected(dataset, rows)
