"""The resident hop source (numpy over `jinyu.analytics.flowindex`) is the lake's hop statement and the pure
ledger: the same expansions on tiny ledgers with extreme amounts, ties, hubs and windows, the golden traces
to the fen, and every loan of a generated region traced both ways with identical rows."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics.flowindex import FlowIndex, FlowIndexes, build
from jinyu.governance.contracts import CONTRACTS
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.rules import Frontier, Ledger, TraceSettings, Transfer
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service import LakeHops, balances
from jinyu.risk.tracing.service import lake as lake_mod
from jinyu.risk.tracing.service import resident as resident_mod
from jinyu.risk.tracing.service.base import RESIDENT_SINGLE_METHOD, SINGLE_METHOD
from jinyu.risk.tracing.service.resident import ResidentHops

from .lake import SH, golden_rows, table, write
from .test_golden import EXPECTED, PER_HOP, _by_hop, _by_kind
from .test_queries import FRONTIER, _key, _transfers

T0 = dt.datetime(2024, 5, 6, 1, 0, tzinfo=dt.UTC)


def _rows(transfers: list[Transfer]) -> dict[str, list[dict[str, Any]]]:
    return {
        "transfers": [
            {"txn_id": t.txn_id, "ts": t.ts.isoformat(), "from_account": t.src, "to_account": t.dst,
             "amount": f"{t.amount // 100}.{t.amount % 100:02d}", "currency": "CNY", "channel": "online"}
            for t in transfers
        ]
    }  # fmt: skip


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[list[Transfer], DuckDBEngine, FlowIndex]]:
    ledger = _transfers(11)
    root: Path = tmp_path_factory.mktemp("resident-hops") / "lake"
    write(Lake(root), _rows(ledger))
    eng = DuckDBEngine(root)
    yield ledger, eng, build(root)
    eng.close()


@pytest.fixture(params=["arrays", "windows", "python"])
def hop_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each hop three ways, whatever the frontier's size: over arrays with the index's vectorised window search
    (a batch's frontier), over arrays with the windows found node by node (`resident._windows`, a frontier of up
    to `_PER_NODE` accounts), and node by node with Python integers (`resident._expand_small`)."""
    if request.param == "arrays":
        monkeypatch.setattr(resident_mod, "_SMALL_NODES", -1)
        monkeypatch.setattr(resident_mod, "_PER_NODE", -1)
    elif request.param == "windows":
        monkeypatch.setattr(resident_mod, "_SMALL_NODES", -1)
        monkeypatch.setattr(resident_mod, "_PER_NODE", 10**6)
    else:
        monkeypatch.setattr(resident_mod, "_SMALL_NODES", 10**6)
        monkeypatch.setattr(resident_mod, "_SMALL_ROWS", 10**9)
        monkeypatch.setattr(resident_mod, "_PER_NODE", 10**6)
    return str(request.param)


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
@pytest.mark.parametrize("hub_degree", [1000, 6, 1])
def test_resident_hops_are_the_lake_statement_and_the_ledger(
    tiny: tuple[list[Transfer], DuckDBEngine, FlowIndex], policy: str, hub_degree: int, hop_path: str
) -> None:
    ledger, engine, index = tiny
    settings = TraceSettings(policy=policy, hub_degree=hub_degree)
    frontier = [*FRONTIER, Frontier("L3", "nowhere", 10, T0, False, T0 + dt.timedelta(days=3))]
    resident = ResidentHops(index, policy).fetch(frontier, settings)
    assert _key(resident) == _key(Ledger(ledger).fetch(frontier, settings))
    assert _key(resident) == _key(LakeHops(engine, policy, "2024-05", "2024-06").fetch(frontier, settings))
    for expansion in resident.values():  # edges come ordered by receiving account, as the statement's are
        assert [e.dst for e in expansion.edges] == sorted(e.dst for e in expansion.edges)
    if hub_degree == 1000:
        assert any(e.traced > 10**11 for v in resident.values() for e in v.edges)  # the exact path ran


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_random_ledgers_agree_with_the_reference(
    tmp_path: Path, seed: int, policy: str, hop_path: str
) -> None:
    rng = random.Random(seed)
    accounts = [f"6{n:03d}" for n in range(rng.randint(3, 25))]
    transfers = []
    for i in range(rng.randint(1, 400)):
        src, dst = rng.sample(accounts, 2)
        amount = (
            rng.choice([1, 99, 10**13 - 1, 4 * 10**12 + 3]) if rng.random() < 0.1 else rng.randint(1, 10**8)
        )
        ts = T0 + dt.timedelta(minutes=rng.randint(-600, 60 * 24 * 20))
        transfers.append(Transfer(f"T{rng.randint(0, 10**6):07d}{i}", ts, src, dst, amount))
    write(Lake(tmp_path / "lake"), _rows(transfers))
    index = build(tmp_path / "lake")
    frontier = [
        Frontier(
            f"L{k % 3}",
            account,
            rng.choice([1, rng.randint(1, 10**9), 9 * 10**12]),
            T0 + dt.timedelta(minutes=rng.randint(-60, 60 * 24 * 5)),
            rng.random() < 0.3,
            T0 + dt.timedelta(days=rng.randint(1, 15)),
        )
        for k, account in enumerate(rng.sample(accounts, min(len(accounts), 12)))
    ]
    settings = TraceSettings(policy=policy, hub_degree=rng.choice([10, 1000]))
    assert _key(ResidentHops(index, policy).fetch(frontier, settings)) == _key(
        Ledger(transfers).fetch(frontier, settings)
    )


def test_an_index_of_an_empty_lake_finds_nothing(tmp_path: Path) -> None:
    index = build(tmp_path / "lake")
    assert index.transfers == 0
    assert ResidentHops(index, "pro_rata").fetch(FRONTIER, TraceSettings()) == {}


# -- whole traces through the service -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DuckDBEngine, FlowIndexes]]:
    root = tmp_path_factory.mktemp("resident-golden") / "lake"
    write(Lake(root), golden_rows())
    engine, flows = DuckDBEngine(root), FlowIndexes()
    assert flows.get(root) is None  # not built yet: the first use starts the build in the background
    assert flows.wait(60)
    assert flows.get(root) is not None
    yield root, engine, flows
    engine.close()


def _trace(
    root: Path, engine: DuckDBEngine, flows: FlowIndexes | None, loan_id: str, mode: str, params: TraceParams
) -> service.Traced:
    stores = service.Stores(engine, root, b"k" * 32, flows=flows)
    loan = queries.loan(engine, loan_id, "H1")
    assert loan is not None
    return service.trace_loan(stores, loan, params, mode, "H1")


@pytest.mark.parametrize(("loan_id", "mode", "policy"), sorted(EXPECTED))
def test_the_golden_traces_to_the_fen_on_the_resident_index(
    golden: tuple[Path, DuckDBEngine, FlowIndexes], loan_id: str, mode: str, policy: str
) -> None:
    root, engine, flows = golden
    params = TraceParams(policy=policy)  # type: ignore[arg-type]
    resident = _trace(root, engine, flows, loan_id, mode, params)
    lake = _trace(root, engine, None, loan_id, mode, params)
    assert resident.basis.method == RESIDENT_SINGLE_METHOD
    assert lake.basis.method == SINGLE_METHOD
    assert _by_kind(resident.trace.nodes) == EXPECTED[(loan_id, mode, policy)]
    if (loan_id, mode, policy) in PER_HOP:
        assert _by_hop(resident.trace.nodes) == PER_HOP[(loan_id, mode, policy)]
    assert resident.trace.nodes == lake.trace.nodes
    assert resident.trace.edges == lake.trace.edges


def test_a_new_load_makes_the_index_stale_until_rebuilt(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), _rows(_transfers(3)[:10]))
    flows = FlowIndexes()
    flows.get(root)
    assert flows.wait(60)
    first = flows.get(root)
    assert first is not None and first.transfers == 10
    write(Lake(root), _rows(_transfers(3)[10:20]), load_id="L2")
    assert flows.get(root) is None  # the lake changed: the lake's SQL answers while the new index builds
    assert flows.wait(60)
    second = flows.get(root)
    assert second is not None and second.transfers == 20


# -- every loan of a generated region ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DuckDBEngine, FlowIndex]]:
    # The benchmark's writer: the region's lake as ingestion leaves it (identifiers pseudonymized).
    from benchmarks.tracing_support import write_lake

    from jinyu.synth import generate

    base = tmp_path_factory.mktemp("resident-region")
    generate(base / "region", "small", 7, progress=False)
    write_lake(base / "region", base / "lake")
    engine = DuckDBEngine(base / "lake")
    yield base / "lake", engine, build(base / "lake")
    engine.close()


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_every_loan_of_a_generated_region_traces_identically_both_ways(
    region: tuple[Path, DuckDBEngine, FlowIndex], policy: str
) -> None:
    root, engine, index = region
    stores = service.Stores(engine, root, b"k" * 32)
    start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    # trace_batch takes the period from start and end; the request brings the parameters.
    request = BatchRequest(
        policy=policy,  # type: ignore[arg-type]
        from_date=dt.date(2024, 1, 1),
        to_date=dt.date(2024, 12, 31),
        analyses=["return_flow", "misuse"],
    )
    traced = 0
    for head in _head_offices(root):
        loans = queries.batch_loans(
            engine,
            {"root_code": head, "loans_from_month": "2000-01", "loans_to_month": "2099-12",
             "disbursed_from": start, "disbursed_to": end},
        )  # fmt: skip
        lake = service.trace_batch(stores, head, loans, request, start, end, index=None)
        resident = service.trace_batch(stores, head, loans, request, start, end, index=index)
        assert lake == resident
        traced += len(lake["return_flow"])
    assert traced == Lake(root).row_count("loans") > 50


def _head_offices(root: Path) -> list[str]:
    import pyarrow.parquet as pq

    banks = pq.read_table(Lake(root).files("banks")).to_pylist()
    return sorted(str(b["org_code"]) for b in banks if b["parent_code"] is None)


@pytest.mark.parametrize("mode", rules.MODES)
def test_the_classifiers_shortcut_is_what_classify_edge_answers_for_an_account_without_facts(
    mode: str,
) -> None:
    for src_own in (True, False):
        for src_related in (True, False):
            assert (
                rules.classify_edge(mode, rules.AccountFacts(), src_own, src_related, "B1") == lake_mod.PASS
            )


@pytest.mark.parametrize("seed", range(5))
def test_the_balance_pool_on_random_ledgers_is_the_statement_and_the_ledger(
    tmp_path: Path, seed: int, hop_path: str
) -> None:
    """Pro rata with the balance pool three ways: the resident index with resident balances of record, the
    lake's `tracing_hop_pro_rata_balance` statement and `Ledger.held` in Python."""
    rng = random.Random(100 + seed)
    accounts = [f"6{n:03d}" for n in range(rng.randint(6, 20))]
    transfers = []
    for i in range(rng.randint(1, 300)):
        src, dst = rng.sample(accounts, 2)
        amount = rng.choice([1, 10**12 + 7]) if rng.random() < 0.05 else rng.randint(1, 10**8)
        ts = T0 + dt.timedelta(minutes=rng.randint(-60 * 24 * 4, 60 * 24 * 12))
        transfers.append(Transfer(f"T{rng.randint(0, 10**6):07d}{i}", ts, src, dst, amount))
    records: dict[str, list[tuple[dt.datetime, int]]] = {}
    rows = []
    for account in rng.sample(accounts, max(1, len(accounts) // 2)):
        for day in rng.sample(range(-6, 3), rng.randint(1, 3)):  # as_of dates around the arrivals
            as_of = (T0 + dt.timedelta(hours=8, days=day)).date()  # a date in Asia/Shanghai
            fen = rng.choice([0, rng.randint(10**8, 10**10), 3 * 10**12])
            since = dt.datetime.combine(as_of, dt.time(0), SH).astimezone(dt.UTC)
            records.setdefault(account, []).append((since, fen))
            rows.append({"account_no": account, "as_of": as_of.isoformat(),
                         "balance": f"{fen // 100}.{fen % 100:02d}", "currency": "CNY"})  # fmt: skip
    root = tmp_path / "lake"
    lake = Lake(root)
    write(lake, _rows(transfers))
    contract = CONTRACTS["opening_balances"]
    lake.append("opening_balances", table("opening_balances", rows), "OB", partition_by=None,
                sort_by=contract.sort_by)  # fmt: skip
    frontier = [
        Frontier(
            f"L{k % 3}",
            account,
            rng.choice([1, rng.randint(1, 10**9)]),
            T0 + dt.timedelta(minutes=rng.randint(-60 * 24 * 2, 60 * 24 * 5)),
            rng.random() < 0.3,
            T0 + dt.timedelta(days=rng.randint(1, 10)),
        )
        for k, account in enumerate(accounts)
    ]
    settings = TraceSettings(policy="pro_rata", pool="balance", hub_degree=rng.choice([10, 1000]))
    engine = DuckDBEngine(root)
    try:
        resident = ResidentHops(build(root), "pro_rata_balance", balances.load(engine))
        found = _key(resident.fetch(frontier, settings))
        lake_hops = LakeHops(engine, "pro_rata_balance", "2024-04", "2024-06")
        assert found == _key(lake_hops.fetch(frontier, settings))
    finally:
        engine.close()
    assert found == _key(Ledger(transfers, records).fetch(frontier, settings))
    ledger = Ledger(transfers, records)
    assert any(ledger.held(n) > 0 and ledger.outgoing(n) for n in frontier)  # the balances took part


def test_a_running_sums_difference_wraps_as_int64_does() -> None:
    """The index's running sums wrap on overflow; the node-by-node hop subtracts them as Python integers."""
    import numpy as np

    sums = np.array([2**63 - 10, 0], dtype=np.int64)
    with np.errstate(over="ignore"):
        sums[1] = sums[0] + np.int64(25)  # wrapped: negative
    assert int(sums[1]) < 0
    with np.errstate(over="ignore"):
        assert resident_mod._wrap(int(sums[1]) - int(sums[0])) == 25 == int(sums[1] - sums[0])
    assert resident_mod._wrap(-5) == -5
