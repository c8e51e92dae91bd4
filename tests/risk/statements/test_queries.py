"""The named queries of statement verification on a tiny lake, with exact expected rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jinyu.analytics import DuckDBEngine
from jinyu.risk.statements import queries

from .world import P1, SH, A, B, build_lake


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    build_lake(tmp_path / "lake", "91500000MA0000001X")
    engine = DuckDBEngine(tmp_path / "lake")
    yield engine
    engine.close()


def test_account(engine: DuckDBEngine) -> None:
    row = queries.account(engine, A)
    assert row is not None and (row.owner_type, row.owner_id, row.currency) == (
        "enterprise",
        "91500000MA0000001X",
        "CNY",
    )
    assert queries.account(engine, "nope") is None


def test_months_loaded(engine: DuckDBEngine) -> None:
    assert queries.months_loaded(engine, "2023-12", "2024-05") == {"2024-01", "2024-02", "2024-03", "2024-04"}


def test_ledger_lines_of_one_account_and_period(engine: DuckDBEngine) -> None:
    start, end = dt.datetime(2024, 3, 1, tzinfo=SH), dt.datetime(2024, 3, 9, tzinfo=SH)
    params = {"account_no": A, "from_ts": start, "to_ts": end, "from_month": "2024-03", "to_month": "2024-03"}
    rows = engine.run("statement_ledger_lines", **params).to_pylist()
    assert [(r["txn_id"], r["amount"], r["counterparty_account"], r["counterparty_name"]) for r in rows] == [
        ("T01", Decimal("12000.00"), B, "重庆乙贸易有限公司"),
        ("T02", Decimal("-3500.00"), "110000100000000003", "重庆丙服务有限公司"),
        ("T03", Decimal("-6500.00"), P1, "张*"),
        ("T04", Decimal("-5800.00"), "6222881000000000025", "李*"),
    ]
    assert rows[0]["ts"] == dt.datetime(2024, 3, 1, 1, 15, tzinfo=dt.UTC)
    assert (rows[0]["memo"], rows[0]["channel"]) == ("货款", "online")
    cols = queries.ledger_columns(engine, A, start, end, "2024-03", "2024-03")
    assert (cols.txn_id[0], cols.local[0], cols.amount[3]) == (
        "T01",
        dt.datetime(2024, 3, 1, 9, 15),
        Decimal("-5800.00"),
    )


def test_ledger_lines_respect_the_shanghai_month_partitions(engine: DuckDBEngine) -> None:
    # 29 February 23:40 in Shanghai is a February row: a window into it must read February's partition too.
    window = (dt.datetime(2024, 2, 29, tzinfo=SH), dt.datetime(2024, 3, 2, tzinfo=SH))
    assert queries.ledger_columns(engine, A, *window, "2024-02", "2024-03").txn_id == ["T08", "T01"]
    assert queries.ledger_columns(engine, A, *window, "2024-03", "2024-03").txn_id == ["T01"]
