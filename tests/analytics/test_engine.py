"""The engines' plumbing: views over the lake, missing datasets, laziness, threads."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jinyu.analytics import (
    DuckDBEngine,
    EngineUnavailable,
    Lake,
    SparkEngine,
    get_query,
    open_engine,
    spark_sql,
)
from jinyu.analytics import spark as spark_module
from jinyu.core.errors import Conflict, InvalidInput, NotFound

from .tables import load


def _transfer(txn: str, day: str) -> dict[str, object]:
    return {
        "txn_id": txn,
        "ts": f"{day}T04:00:00+00:00",
        "from_account": "A1",
        "to_account": "A2",
        "amount": "1.00",
    }


def test_a_dataset_without_files_is_named_in_the_error(lake: Lake, duck: DuckDBEngine) -> None:
    load(lake, "accounts", [{"account_no": "A1"}])
    with pytest.raises(NotFound, match="'banks'"):
        duck.run("accounts_of_bank_tree", head_code="H", limit=10, offset=0)


def test_the_error_never_names_the_servers_files(lake: Lake, duck: DuckDBEngine) -> None:
    """The detail reaches API clients: the lake's path goes to the server log only (docs/security.md)."""
    load(lake, "accounts", [{"account_no": "A1"}])
    with pytest.raises(NotFound) as caught:
        duck.run("accounts_of_bank_tree", head_code="H", limit=10, offset=0)
    assert str(lake.root) not in str(caught.value.detail)
    assert "jinyu ingest-region" in str(caught.value.detail)


def test_bad_parameters_fail_before_the_lake_is_touched(duck: DuckDBEngine) -> None:
    with pytest.raises(InvalidInput) as err:
        duck.run("accounts_of_owner", owner_id="E1", limit=-1, offset=0)
    assert [f.field for f in err.value.fields] == ["limit"]
    with pytest.raises(NotFound, match="nope"):
        duck.run("nope")


def test_loads_after_the_first_run_are_seen(lake: Lake, duck: DuckDBEngine) -> None:
    load(lake, "transfers", [_transfer("T1", "2024-01-05")], "L1")
    assert duck.run("transfer_monthly_totals").column("txn_count").to_pylist() == [1]
    load(lake, "transfers", [_transfer("T2", "2024-01-06"), _transfer("T3", "2024-02-01")], "L2")
    assert duck.run("transfer_monthly_totals").column("txn_count").to_pylist() == [2, 1]


def test_runs_from_several_threads(lake: Lake, duck: DuckDBEngine) -> None:
    load(lake, "accounts", [{"account_no": f"A{i:03d}", "owner_id": f"E{i % 4}"} for i in range(40)])
    owners = [f"E{i % 4}" for i in range(16)]

    def run(owner: str) -> list[object]:
        rows = duck.run("accounts_of_owner", owner_id=owner, limit=100, offset=0)
        return list(rows.column("owner_id").to_pylist())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, owners))
    assert results == [[owner] * 10 for owner in owners]


def test_opened_at_start_it_answers_as_before_and_sees_later_datasets(lake: Lake, duck: DuckDBEngine) -> None:
    duck.open()  # an empty lake: DuckDB started, no view
    load(lake, "transfers", [_transfer("T1", "2024-01-05")], "L1")
    duck.open()  # the views of what the lake holds now
    load(lake, "transfers", [_transfer("T2", "2024-02-06")], "L2")  # a later load of a dataset with a view
    assert duck.run("transfer_monthly_totals").column("txn_count").to_pylist() == [1, 1]
    load(lake, "accounts", [{"account_no": f"A{i}", "owner_id": "E1"} for i in range(3)])  # a new dataset
    rows = duck.run("accounts_of_owner", owner_id="E1", limit=10, offset=0)
    assert rows.column("account_no").to_pylist() == ["A0", "A1", "A2"]


def test_open_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_jvm(master: str) -> None:
        raise AssertionError("the Spark session must not start before a query runs")

    monkeypatch.setattr(spark_module, "_start", no_jvm)
    monkeypatch.setattr(spark_module, "_session", None)
    assert isinstance(open_engine("duckdb", tmp_path), DuckDBEngine)
    engine = open_engine("spark", tmp_path, spark_master="local[1]")
    assert isinstance(engine, SparkEngine)
    assert engine.master == "local[1]"
    with pytest.raises(InvalidInput):
        open_engine("oracle", tmp_path)  # type: ignore[arg-type]


def test_missing_pyspark_is_reported_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # makes `from pyspark.sql import ...` fail
    with pytest.raises(EngineUnavailable, match="PySpark"):
        spark_module._start("local[1]")


def test_one_session_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_module, "_session", object())
    monkeypatch.setattr(spark_module, "_master", "local[2]")
    with pytest.raises(Conflict):
        spark_module.spark_session("spark://elsewhere:7077")


def test_the_spark_translation_is_made_once_per_query() -> None:
    query = get_query("enterprise_gov_summary")
    assert spark_sql(query) is spark_sql(query)
    assert ":as_of_month" in spark_sql(query)
    assert "$" not in spark_sql(query)
