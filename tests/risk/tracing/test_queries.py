"""The hop statement against the pure policy arithmetic on tiny inline ledgers: exact at extreme amounts,
FIFO ties broken by txn_id, hubs, windows, and several loans in one statement."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.errors import InvalidInput
from jinyu.risk.tracing import queries, rules
from jinyu.risk.tracing.rules import Frontier, Ledger, TraceSettings, Transfer
from jinyu.risk.tracing.service import LakeHops, frontier_text

from .lake import write

T0 = dt.datetime(2024, 5, 6, 1, 0, tzinfo=dt.UTC)
UNTIL = T0 + dt.timedelta(days=30)


def _transfers(seed: int) -> list[Transfer]:
    rng = random.Random(seed)
    huge = [10**13 - 1, 9_999_999_999_989, 7_777_777_777_777, 3, 1]
    out = []
    for i in range(80):
        src, dst = rng.sample(["a", "b", "c", "d", "e"], 2)
        amount = rng.choice(huge) if i % 7 == 0 else rng.randint(1, 10**9)
        ts = T0 + dt.timedelta(hours=rng.randint(-48, 24 * 35))
        if i % 5 == 0:
            ts = T0 + dt.timedelta(hours=5)  # many transfers at the same instant: ties by txn_id
        out.append(Transfer(f"X{i:04d}", ts, src, dst, amount))
    return out


@pytest.fixture(scope="module")
def ledger() -> list[Transfer]:
    return _transfers(11)


@pytest.fixture(scope="module")
def engine(ledger: list[Transfer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    root: Path = tmp_path_factory.mktemp("hops") / "lake"
    rows: dict[str, list[dict[str, Any]]] = {
        "transfers": [
            {"txn_id": t.txn_id, "ts": t.ts.isoformat(), "from_account": t.src, "to_account": t.dst,
             "amount": f"{t.amount // 100}.{t.amount % 100:02d}", "currency": "CNY", "channel": "online"}
            for t in ledger
        ]
    }  # fmt: skip
    write(Lake(root), rows)
    eng = DuckDBEngine(root)
    yield eng
    eng.close()


FRONTIER = [
    Frontier("L1", "a", 5 * 10**12, T0, True, UNTIL),
    Frontier("L1", "b", 123_456_789, T0 + dt.timedelta(hours=2), False, UNTIL),
    Frontier("L2", "a", 10**12 + 7, T0 + dt.timedelta(hours=1), False, UNTIL - dt.timedelta(days=10)),
    Frontier("L2", "c", 1, T0, False, UNTIL),
]


def _key(expansions: dict[tuple[str, str], rules.Expansion]) -> dict[tuple[str, str], Any]:
    return {
        k: (v.hub, sorted((e.dst, e.traced, e.first_ts, e.last_ts, e.txn_count) for e in v.edges))
        for k, v in expansions.items()
        if v.hub or v.edges
    }


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
@pytest.mark.parametrize("hub_degree", [1000, 6])
def test_the_hop_statement_is_the_policy_arithmetic(
    engine: DuckDBEngine, ledger: list[Transfer], policy: str, hub_degree: int
) -> None:
    settings = TraceSettings(policy=policy, hub_degree=hub_degree)
    lake = LakeHops(engine, policy, "2024-05", "2024-06").fetch(FRONTIER, settings)
    reference = Ledger(ledger).fetch(FRONTIER, settings)
    assert _key(lake) == _key(reference)
    assert any(e.traced > 10**11 for v in lake.values() for e in v.edges)  # the exact path was exercised
    if hub_degree == 6:
        assert any(v.hub for v in lake.values())
        assert not lake.get(("L1", "a"), rules.Expansion()).hub  # the borrower's own account never is


def test_the_frontier_travels_as_one_text_parameter() -> None:
    text = frontier_text(FRONTIER[:1])
    assert text == f"L1|a|{5 * 10**12}|{int(T0.timestamp()) * 10**6}|1|{int(UNTIL.timestamp()) * 10**6}"
    with pytest.raises(InvalidInput):
        frontier_text([Frontier("L1", "a,b", 1, T0, False, UNTIL)])


def test_evidence_accounts_lookup_of_nothing_runs_no_statement(engine: DuckDBEngine) -> None:
    assert queries.accounts(engine, []) == []
