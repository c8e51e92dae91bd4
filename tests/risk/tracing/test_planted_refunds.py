"""The synthetic region's planted refunds (generator 1.6, jinyu.synth.refund_cases): tracing every loan of the
small region finds refunds on exactly the planted refund loans, with the planted amounts under FIFO (the
supplier sends the purchase back before anything else leaves either quiet account), and the unmarked round
trip stays return flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.risk.tracing import queries, service
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service.context import ResidentContext, ResidentContexts, SqlLookups
from jinyu.risk.tracing.service.tables import load
from jinyu.synth import generate
from jinyu.synth.refund_cases import REFUND_CASES
from jinyu.synth.risk_cases import LABELS_FILE, read_labels


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, DuckDBEngine]]:
    from benchmarks.tracing_support import write_lake  # the region's lake as ingestion leaves it

    base = tmp_path_factory.mktemp("refund-region")
    generate(base / "region", "small", 7, progress=False)
    write_lake(base / "region", base / "lake")
    engine = DuckDBEngine(base / "lake")
    yield base / "region", base / "lake", engine
    engine.close()


def _fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


@pytest.mark.parametrize("policy", ["fifo", "pro_rata"])
def test_refunds_are_found_on_exactly_the_planted_loans(
    region: tuple[Path, Path, DuckDBEngine], policy: str
) -> None:
    region_dir, root, engine = region
    labels = {x["loan_id"]: x for x in read_labels(region_dir / LABELS_FILE) if x["case"] in REFUND_CASES}
    assert sorted(x["case"] for x in labels.values()) == sorted(
        REFUND_CASES
    )  # one of each at the small scale
    stores = service.Stores(engine, root, b"k" * 32)
    start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    request = BatchRequest(
        policy=policy,  # type: ignore[arg-type]
        from_date=dt.date(2024, 1, 1),
        to_date=dt.date(2024, 12, 31),
        analyses=["return_flow"],
    )
    refunded: dict[str, int] = {}
    returned_at_hop2: dict[str, int] = {}
    banks = pq.read_table(Lake(root).files("banks")).to_pylist()
    for head in sorted(str(b["org_code"]) for b in banks if b["parent_code"] is None):
        loans = queries.batch_loans(
            engine,
            {"root_code": head, "loans_from_month": "2000-01", "loans_to_month": "2099-12",
             "disbursed_from": start, "disbursed_to": end},
        )  # fmt: skip
        found = service.trace_batch(stores, head, loans, request, start, end, index=None)
        for loan_id, nodes in found["return_flow"].items():
            if amount := sum(int(n["traced"]) for n in nodes if n["kind"] == "refund"):
                refunded[loan_id] = amount
            returned_at_hop2[loan_id] = sum(
                int(n["traced"]) for n in nodes if n["kind"] == "returned" and n["hop"] == 2
            )
    planted = {k for k, x in labels.items() if x["expected_kind"] == "refund"}
    assert set(refunded) == planted  # no refund anywhere else in the region, and none missed
    control = next(k for k, x in labels.items() if x["case"] == "round_trip_unmarked")
    assert control not in refunded and returned_at_hop2[control] > 0
    if policy == "fifo":  # the planted amounts, to the fen
        assert refunded == {k: _fen(labels[k]["planted_amount"]) for k in planted}
        assert returned_at_hop2[control] == _fen(labels[control]["planted_amount"])
        assert all(returned_at_hop2[k] == 0 for k in planted)


def _batch(stores: service.Stores, engine: DuckDBEngine, policy: str, **kw: Any) -> dict[str, Any]:
    start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    request = BatchRequest(
        policy=policy,  # type: ignore[arg-type]
        from_date=dt.date(2024, 1, 1),
        to_date=dt.date(2024, 12, 31),
        analyses=["return_flow"],
    )
    out: dict[str, Any] = {}
    banks = pq.read_table(Lake(stores.lake_root).files("banks")).to_pylist()
    for head in sorted(str(b["org_code"]) for b in banks if b["parent_code"] is None):
        loans = queries.batch_loans(
            engine,
            {"root_code": head, "loans_from_month": "2000-01", "loans_to_month": "2099-12",
             "disbursed_from": start, "disbursed_to": end},
        )  # fmt: skip
        out |= service.trace_batch(stores, head, loans, request, start, end, index=None, **kw)["return_flow"]
    return out


@pytest.mark.parametrize("policy", ["fifo", "pro_rata"])
def test_the_resident_refund_transfers_give_the_statements_refunds(
    region: tuple[Path, Path, DuckDBEngine], policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every loan of the region, batch and one by one: the refunds from memory are the statement's."""
    region_dir, root, engine = region
    planted = {x["loan_id"] for x in read_labels(region_dir / LABELS_FILE) if x["expected_kind"] == "refund"}
    stores = service.Stores(engine, root, b"k" * 32)
    resident = ResidentContext(load(engine))
    over_sql = _batch(stores, engine, policy, lookup=SqlLookups(engine))
    refunded = {k for k, nodes in over_sql.items() if any(n["kind"] == "refund" for n in nodes)}
    assert refunded == planted and len(planted) >= 2

    def no_sql(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the refund statement ran")

    monkeypatch.setattr(queries, "pair_transfers", no_sql)
    assert _batch(stores, engine, policy, lookup=resident) == over_sql
    # one loan at a time (the API's path), with the refund lines' transaction ids
    contexts = ResidentContexts()
    served = service.Stores(engine, root, b"k" * 32, contexts=contexts)
    contexts.get(root)  # built now, or read back from what the other policy's run kept beside the lake
    assert contexts.wait(120) and contexts.get(root) is not None
    by_memory = {k: _one(served, resident, k, policy) for k in sorted(planted)}
    monkeypatch.undo()
    by_sql = {k: _one(stores, resident, k, policy) for k in sorted(planted)}
    assert by_memory == by_sql
    assert all(r for r in by_sql.values())  # each planted loan has refund lines with transaction ids


def _one(stores: service.Stores, resident: ResidentContext, loan_id: str, policy: str) -> list[Any]:
    loan = resident.t.loan_by_id[loan_id][0]
    root = str(loan["bank_code"])
    traced = service.trace_loan(stores, dict(loan), TraceParams(policy=policy), "return_flow", root)  # type: ignore[arg-type]
    return [(r.hop, r.payer, r.payee, r.amount, r.purchases, r.reversals) for r in traced.refunds]
