"""Segment flows from the member-pair sums (`chain_member_pairs`): equal to the statement over the transfers to the
fen (figures worked out by hand from tests/chain/lake.py), read only while every month of the window is current,
and the statement again once a load makes a month stale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake, ResultCache
from jinyu.chain import definitions, due_months, pairs, reads, stored
from jinyu.governance.contracts import CONTRACTS
from tests.chain.lake import U, _table, _transfer, rows, write

D = Decimal
MONTHS = ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
WINDOW = {
    "chain_code": "new_display",
    "from_month": "2023-10",
    "to_month": "2024-03",
    "segment_overrides": "",
}
# By hand: members' payments to members only (m1 → x, x → m2 and m1 → P are not between two members).
EXPECTED = [
    ("2023-10", "panels", "materials", 1, D("50000.00")),  # c → m1
    ("2023-12", "materials", "panels", 1, D("0.02")),  # m2 → c
    ("2024-01", "materials", "panels", 1, D("0.07")),  # m2 → c
    ("2024-03", "dealers", "modules", 1, D("300000.00")),  # r1 → d1
    ("2024-03", "materials", "panels", 2, D("0.04")),  # m2 → c 0.01 + m1 → c 0.03
    ("2024-03", "modules", "panels", 1, D("1000000.00")),  # d1 → c
    ("2024-03", "panels", "materials", 2, D("1000000.00")),  # c → m1 600,000 + c → m2 400,000
]


class Counting:
    """The engine, recording the statements run."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine, self.kind, self.runs = engine, engine.kind, list[str]()

    def run(self, name: str, /, **params: object) -> pa.Table:
        self.runs.append(name)
        return self.engine.run(name, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def _lake(tmp_path: Path) -> Lake:
    data = rows()
    data["transfers"] = [
        *data["transfers"],
        _transfer(901, "m2", "c", "0.02", "2023-12-20T10:00:00"),
        _transfer(902, "m2", "c", "0.07", "2024-01-20T10:00:00"),
        _transfer(903, "m2", "c", "0.01", "2024-03-20T10:00:00"),
        _transfer(904, "m1", "c", "0.03", "2024-03-21T10:00:00"),
    ]
    lake = Lake(tmp_path / "lake")
    write(lake, data)
    return lake


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]


def _build(engine: DuckDBEngine, lake: Lake) -> None:
    for m in MONTHS:
        pairs.build_month(engine, lake, m)


def test_flows_from_pairs_equal_the_statement_and_the_hand_figures(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    assert pairs.flows_query(engine, lake.root, "2023-10", "2024-03") == pairs.STATEMENT  # nothing built yet
    # The dataset's empty stand-in before its first files:
    assert engine.run(pairs.FROM_PAIRS, **WINDOW).num_rows == 0
    _build(engine, lake)
    assert pairs.flows_query(engine, lake.root, "2023-10", "2024-03") == pairs.FROM_PAIRS
    from_pairs = engine.run(pairs.FROM_PAIRS, **WINDOW)
    assert _rows(from_pairs) == EXPECTED
    assert from_pairs.equals(engine.run(pairs.STATEMENT, **WINDOW))  # same schema and values
    moved = {**WINDOW, "segment_overrides": f"new_display:{U['m2']}:dealers;new_display:{U['c']}:modules"}
    assert _rows(engine.run(pairs.FROM_PAIRS, **moved)) == _rows(engine.run(pairs.STATEMENT, **moved))
    assert ("2024-03", "dealers", "modules", 2, D("0.01")) not in _rows(engine.run(pairs.STATEMENT, **moved))
    engine.close()


def test_a_load_makes_months_stale_until_rebuilt_and_the_latest_build_wins(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    _build(engine, lake)
    late = _table("transfers", [_transfer(950, "d1", "c", "5.55", "2024-03-25T10:00:00")])
    c = CONTRACTS["transfers"]
    lake.append("transfers", late, "L-late", partition_by=c.partition_by, sort_by=c.sort_by)
    assert pairs.stale_months(engine, lake, MONTHS) == ["2024-03"]
    assert pairs.flows_query(engine, lake.root, "2023-10", "2024-03") == pairs.STATEMENT
    assert pairs.flows_query(engine, lake.root, "2023-10", "2024-02") == pairs.FROM_PAIRS
    pairs.build_month(engine, lake, "2024-03")
    assert pairs.stale_months(engine, lake, MONTHS) == []
    answer = _rows(engine.run(pairs.FROM_PAIRS, **WINDOW))
    assert ("2024-03", "modules", "panels", 2, D("1000005.55")) in answer  # the older build is not added in
    assert answer == _rows(engine.run(pairs.STATEMENT, **WINDOW))
    member = _table(
        "chain_members", [{"chain_code": "auto", "chain_name": "汽车", "segment": "core", "uscc": U["x"]}]
    )
    c = CONTRACTS["chain_members"]
    lake.append("chain_members", member, "L-more", partition_by=c.partition_by, sort_by=c.sort_by)
    assert pairs.stale_months(engine, lake, MONTHS) == MONTHS  # membership decides every month's pairs
    assert pairs.stale_months(engine, lake, ["2025-01"]) == []  # a month without transfers has nothing to sum
    engine.close()


def test_served_flows_read_the_pairs_when_current(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    cold = Counting(engine)
    assert _rows(reads.monthly(cold, ResultCache(lake.root), reads.FLOWS, WINDOW)) == EXPECTED  # type: ignore[arg-type]
    assert cold.runs == [pairs.STATEMENT]  # no pairs in the lake: no statement to learn it
    _build(engine, lake)
    warm = Counting(engine)
    wide: dict[str, object] = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-03"}
    page = reads.PageReads(warm, ResultCache(lake.root), wide)  # type: ignore[arg-type]
    assert _rows(page.run(reads.FLOWS, **WINDOW)) == EXPECTED
    assert pairs.FROM_PAIRS in warm.runs and reads.LINKS_AND_FLOWS not in warm.runs
    links = page.run(reads.LINKS, chain_code="new_display", from_month="2024-01", to_month="2024-03")
    assert links.equals(
        engine.run(reads.LINKS, chain_code="new_display", from_month="2024-01", to_month="2024-03")
    )
    engine.close()


def test_the_network_build_makes_the_months_pairs_and_old_lakes_are_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    p = definitions.load().parameters
    chains = [c.code for c in definitions.load().chains]
    with monkeypatch.context() as m:  # a lake built before the pairs existed: the network alone
        m.setattr(pairs, "build_month", lambda *_: 0)
        for month in MONTHS:
            stored.build_month(engine, lake, month, chains, p)
    assert due_months.due_months(engine, lake, p) == MONTHS  # built, but without its pairs
    for month in MONTHS:
        stored.build_month(engine, lake, month, chains, p)
    assert due_months.due_months(engine, lake, p) == []
    assert pairs.flows_query(engine, lake.root, "2023-10", "2024-03") == pairs.FROM_PAIRS
    built = {r["month"]: r["built_at"] for r in engine.run(pairs.PAIR_BUILDS.name).to_pylist()}
    assert sorted(built) == MONTHS and all(isinstance(t, dt.datetime) for t in built.values())
    engine.close()
