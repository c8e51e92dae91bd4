"""The synthetic region's planted refunds (generator 1.6, jinyu.synth.refund_cases): tracing every loan of the
small region finds refunds on exactly the planted refund loans, with the planted amounts under FIFO (the
supplier sends the purchase back before anything else leaves either quiet account), and the unmarked round
trip stays return flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.risk.tracing import queries, service
from jinyu.risk.tracing.schemas import BatchRequest
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
