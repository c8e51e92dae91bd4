"""Checks through the service on a real database: snapshots keep their items, rules in force are versioned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import SYSTEM
from jinyu.governance import remediation, service
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.rules import Rule
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import uscc


def _enterprises(lake: Lake) -> None:
    schema = arrow_schema(CONTRACTS["enterprises"])
    rows = [
        {"uscc": uscc(9000 + i), "name": f"企业{i}", "industry_code": "Z9999" if i == 1 else "C3974",
         "district_code": "500103", "registered_capital": 1000, "established_on": dt.date(2015, 1, 1),
         "address": "a", "phone": None, "legal_rep_id": "t", "legal_rep_name": "张*", "status": "active"}
        for i in range(4)
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=schema)
    lake.append("enterprises", table, "L1", partition_by=None, sort_by=())


def test_a_snapshot_dataset_keeps_one_item_across_monthly_checks(session: Session, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    _enterprises(lake)
    engine = DuckDBEngine(lake.root)
    try:
        [first] = service.check(session, SYSTEM, engine, lake, "enterprises", as_of=dt.date(2026, 11, 30))
        [second] = service.check(session, SYSTEM, engine, lake, "enterprises", as_of=dt.date(2026, 12, 6))
    finally:
        engine.close()
    assert (first.rows_checked, first.rows_anomalous) == (4, 1)
    items = remediation.list_items(session, SYSTEM)
    assert [(i.rule_code, i.period, i.status, i.failed_now) for i in items] == [
        ("enterprises.industry_code.code_list", "-", "open", 1)
    ]
    trend = service.report(session, SYSTEM, dataset="enterprises").trend
    assert [(p.provider, p.period, p.checked, p.anomalous) for p in trend] == [
        ("BUREAU-SAMR", "2026-11", 4, 1),
        ("BUREAU-SAMR", "2026-12", 4, 1),
    ]
    assert second.anomaly_rate_pct is not None and str(second.anomaly_rate_pct) == "25.0000"


def test_a_new_version_replaces_the_shipped_rule(session: Session) -> None:
    shipped = service.get_rule(session, SYSTEM, "loans.term_months.range")
    assert (shipped.version, shipped.source) == (1, "standard")
    body = shipped.body | {"max": "480"}
    out = service.put_rule(session, SYSTEM, Rule.model_validate(body))
    assert (out.version, out.source, out.body["max"]) == (2, "api", "480")
    again = service.put_rule(session, SYSTEM, Rule.model_validate(body | {"active": False}))
    assert again.version == 3 and not again.active
    assert service.get_rule(session, SYSTEM, "loans.term_months.range").version == 3


def test_a_retired_rule_is_not_checked(session: Session) -> None:
    from jinyu.governance.sqlplan import compile_plan

    out = service.retire_rule(session, SYSTEM, "loans.amount.range", "superseded / 被替代")
    assert (out.version, out.active) == (2, False)
    rules = [r for r, _ in service.effective_rules(session)]
    plan = compile_plan("loans", rules, {"loans", "enterprises"}, partitioned=True)
    assert [r.code for r in plan.row_rules] == [
        "loans.borrower.registered", "loans.disbursed_at.range", "loans.term_months.range"
    ]  # fmt: skip
