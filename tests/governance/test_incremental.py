"""Incremental checks: a load of a new file scans only that file, the combined counts equal a full scan (the
one-statement plan over the whole dataset, no file grouping, no cache) and hand-computed counts, and a new
rule version or a change of the referenced dataset makes every file be scanned again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import SYSTEM
from jinyu.governance import incremental, service
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.queries import run_plan
from jinyu.governance.rules import Rule
from jinyu.governance.sqlplan import compile_plan
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import uscc

AS_OF = dt.date(2026, 12, 6)
LOAN_RULES = [r for r in service.standard_rules() if r.dataset == "loans"]


def _enterprises(lake: Lake, numbers: range, load_id: str) -> None:
    rows = [
        {"uscc": uscc(9000 + i), "name": f"企业{i}", "industry_code": "C3974", "district_code": "500103",
         "registered_capital": 1000, "established_on": dt.date(2015, 1, 1), "address": "a", "phone": None,
         "legal_rep_id": "t", "legal_rep_name": "张*", "status": "active"}
        for i in numbers
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=arrow_schema(CONTRACTS["enterprises"]))
    lake.append("enterprises", table, load_id, partition_by=None, sort_by=())


def _loans(lake: Lake, month: int, borrowers: list[int | str], terms: list[int], load_id: str) -> None:
    """One loan per borrower number (9000 + n: registered when the enterprises hold n) or borrower USCC as
    given, in 2026-`month`."""
    rows = [
        {"loan_id": f"{load_id}-{i}", "bank_code": "B1" if i % 2 else "B2",
         "borrower_uscc": uscc(9000 + n) if isinstance(n, int) else n,
         "disbursement_account": "6222000000000001", "amount": Decimal("1000.00"),
         "disbursed_at": dt.datetime(2026, month, 3, 4, tzinfo=dt.UTC), "term_months": term,
         "declared_purpose": "working_capital"}
        for i, (n, term) in enumerate(zip(borrowers, terms, strict=True))
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=arrow_schema(CONTRACTS["loans"]))
    lake.append("loans", table, load_id, partition_by="disbursed_at", sort_by=("loan_id",))


def _scan(engine: DuckDBEngine, lake: Lake, cache: incremental.MemoryCache, rules: list[Rule]) -> Any:
    plan = compile_plan("loans", rules, {"loans", "enterprises"}, True, source=incremental.SOURCE)
    files = {d: lake.files(d) for d in ("loans", "enterprises")}
    return incremental.scan(engine, plan, {"as_of": AS_OF}, files, cache)


def _full(engine: DuckDBEngine, rules: list[Rule]) -> list[tuple[Any, ...]]:
    plan = compile_plan("loans", rules, {"loans", "enterprises"}, True)
    return _canonical(run_plan(engine, plan, {"as_of": AS_OF}))


def _canonical(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted(r.items())) for r in rows)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    _enterprises(lake, range(4), "E1")
    _loans(lake, 9, [0, 1, 7, 2], [12, 600, 12, 24], "L09")  # 7 unregistered, one 600-month term
    _loans(lake, 10, [3, 8, 8], [12, 12, 0], "L10")  # 8 unregistered twice, one 0-month term
    return lake


def test_a_load_scans_only_its_file_and_the_sums_equal_a_full_scan(lake: Lake) -> None:
    cache = incremental.MemoryCache()
    engine = DuckDBEngine(lake.root)
    try:
        first = _scan(engine, lake, cache, LOAN_RULES)
        assert (first.files, first.scanned_files, first.rows_scanned) == (2, 2, 7)
        _loans(lake, 11, [1, 9], [36, 12], "L11")  # 9 unregistered
        after_load = _scan(engine, lake, cache, LOAN_RULES)
        again = _scan(engine, lake, cache, LOAN_RULES)
        full = _full(engine, LOAN_RULES)
    finally:
        engine.close()
    assert after_load.explain() | {"signature": ""} == {
        "files": 3, "scanned_files": 1, "reused_files": 2, "rows_scanned": 2, "signature": ""
    }  # fmt: skip
    assert (again.scanned_files, again.rows_scanned) == (0, 0)
    assert _canonical(after_load.rows) == full == _canonical(again.rows)
    # By hand: 9 loans; failing: Sep 600-month term, Sep borrower 7, Oct borrower 8 (twice, the second also a
    # 0-month term: one anomalous record), Nov borrower 9 → 5 anomalous.
    assert sum(r["n_rows"] for r in after_load.rows) == 9
    assert sum(r["n_anomalous"] for r in after_load.rows) == 5
    by_month = {(r["period"], r["provider"]): r["n_anomalous"] for r in after_load.rows}
    assert by_month == {
        ("2026-09", "B1"): 1, ("2026-09", "B2"): 1, ("2026-10", "B1"): 1, ("2026-10", "B2"): 1,
        ("2026-11", "B1"): 1, ("2026-11", "B2"): 0,
    }  # fmt: skip


def test_a_new_rule_version_scans_every_file_again(lake: Lake) -> None:
    cache = incremental.MemoryCache()
    term = next(r for r in LOAN_RULES if r.code == "loans.term_months.range")
    changed = [r for r in LOAN_RULES if r is not term]
    changed.append(term.model_copy(update={"version": 2, "max": "700"}))
    engine = DuckDBEngine(lake.root)
    try:
        _scan(engine, lake, cache, LOAN_RULES)
        second = _scan(engine, lake, cache, changed)
        full = _full(engine, changed)
    finally:
        engine.close()
    assert (second.scanned_files, second.rows_scanned) == (2, 7)
    assert _canonical(second.rows) == full
    assert sum(r["n_anomalous"] for r in second.rows) == 3  # the 600-month term passes now


def test_new_registrations_rescan_the_referring_files(lake: Lake) -> None:
    cache = incremental.MemoryCache()
    engine = DuckDBEngine(lake.root)
    try:
        before = _scan(engine, lake, cache, LOAN_RULES)
        _enterprises(lake, range(8, 9), "E2")  # borrower 8 registers: two loans of October are cured
        after = _scan(engine, lake, cache, LOAN_RULES)
        full = _full(engine, LOAN_RULES)
    finally:
        engine.close()
    assert sum(r["n_anomalous"] for r in before.rows) == 4
    assert (after.scanned_files, sum(r["n_anomalous"] for r in after.rows)) == (2, 3)
    assert _canonical(after.rows) == full


def test_service_checks_reuse_the_database_cache(session: Session, lake: Lake) -> None:
    engine = DuckDBEngine(lake.root)
    try:
        [first] = service.check(session, SYSTEM, engine, lake, "loans", as_of=AS_OF)
        _loans(lake, 11, [1, 9], [36, 12], "L11")
        [second] = service.check(session, SYSTEM, engine, lake, "loans", as_of=AS_OF)
        [full] = service.check(session, SYSTEM, engine, lake, "loans", as_of=AS_OF, full=True)
    finally:
        engine.close()
    assert first.findings["scan"]["scanned_files"] == 2
    assert {k: second.findings["scan"][k] for k in ("files", "scanned_files", "rows_scanned")} == {
        "files": 3, "scanned_files": 1, "rows_scanned": 2
    }  # fmt: skip
    assert full.findings["scan"]["scanned_files"] == 3
    assert (second.rows_checked, second.rows_anomalous) == (full.rows_checked, full.rows_anomalous) == (9, 5)


@pytest.mark.spark
def test_spark_scans_only_the_new_file_with_the_same_counts(lake: Lake) -> None:
    """The file-subset path (`run_over_files`, per-file grouping, kept counts) on Spark: same rows as DuckDB's
    after a load, only the new file scanned, and the sums as counted by hand. A check-digit rule joins the
    checked files' own distinct values, so it is exercised over a file subset too."""
    pytest.importorskip("pyspark")
    from jinyu.analytics import SparkEngine

    digit = Rule.model_validate(
        {"code": "loans.borrower_uscc.check_digit", "dataset": "loans", "kind": "check_digit",
         "column": "borrower_uscc", "scheme": "uscc", "title": "借款人代码校验位 / borrower USCC check character"}
    )  # fmt: skip
    rules = [*LOAN_RULES, digit]
    right = uscc(9001)
    bad = right[:17] + ("0" if right[17] != "0" else "1")  # borrower 1's code with a wrong check character
    duck, spark = DuckDBEngine(lake.root), SparkEngine(lake.root)
    duck_cache, spark_cache = incremental.MemoryCache(), incremental.MemoryCache()
    try:
        for engine, cache in ((duck, duck_cache), (spark, spark_cache)):
            _scan(engine, lake, cache, rules)
        _loans(lake, 11, [1, bad, bad], [36, 12, 0], "L11")  # the bad code is also unregistered
        on_duck = _scan(duck, lake, duck_cache, rules)
        on_spark = _scan(spark, lake, spark_cache, rules)
        full = _full(duck, rules)
    finally:
        duck.close()
    assert (
        (on_spark.scanned_files, on_spark.rows_scanned)
        == (on_duck.scanned_files, on_duck.rows_scanned)
        == (1, 3)
    )
    assert _canonical(on_spark.rows) == _canonical(on_duck.rows) == full
    # By hand: the 4 anomalous records of Sep and Oct, and Nov's two loans of the bad code (one with a 0-month
    # term) → 6 anomalous of 10; the check-digit rule fails those two only, the reference rule 3 + 2.
    totals = {k: sum(r[k] for r in on_spark.rows) for k in ("n_rows", "n_anomalous", "r2", "r4")}
    assert totals == {"n_rows": 10, "n_anomalous": 6, "r2": 5, "r4": 2}


def test_rows_survive_their_json_form() -> None:
    row = {"n_rows": 3, "f0": dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC), "f1": dt.date(2026, 1, 2),
           "d0_sum": Decimal("12.30"), "period": "2026-01", "d1_sum": None}  # fmt: skip
    assert incremental.decode(incremental.encode(row)) == row


def test_merge_adds_counts_and_keeps_the_latest_value() -> None:
    rows = [
        {"period": "2026-01", "n_rows": 2, "r0": 1, "f0": dt.date(2026, 1, 5), "d0_sum": None},
        {"period": "2026-01", "n_rows": 3, "r0": 0, "f0": dt.date(2026, 1, 2), "d0_sum": Decimal("1.5")},
        {"period": "2026-02", "n_rows": 1, "r0": 1, "f0": None, "d0_sum": Decimal("2")},
    ]
    assert incremental.merge(rows) == [
        {"period": "2026-01", "n_rows": 5, "r0": 1, "f0": dt.date(2026, 1, 5), "d0_sum": Decimal("1.5")},
        {"period": "2026-02", "n_rows": 1, "r0": 1, "f0": None, "d0_sum": Decimal("2")},
    ]
