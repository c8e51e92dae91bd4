"""The planted contagion case of the new-display chain, found in the small region exactly as documented."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.chain import counterparties, service
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import ARROW_TYPES
from jinyu.synth.chain_cases import CASES_FILE

DATASETS = ("enterprises", "chain_members", "accounts", "transfers")


@pytest.fixture(scope="module")
def engine(region_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    root = tmp_path_factory.mktemp("chain_lake") / "lake"
    for name in DATASETS:
        contract = CONTRACTS[name]
        schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in contract.columns])
        path = region_dir / f"{name}.csv"
        if path.exists():
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=schema))
        else:
            table = pq.read_table(region_dir / f"{name}.parquet")
        Lake(root).append(
            name,
            table.select(schema.names).cast(schema),
            "L1",
            partition_by=contract.partition_by,
            sort_by=contract.sort_by,
            mirrors=dict(contract.mirrors) or None,
        )
    return DuckDBEngine(root)


def test_the_planted_exposures_are_found_to_the_fen(region_dir: Path, engine: DuckDBEngine) -> None:
    with (region_dir / CASES_FILE).open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    failing = next(r for r in truth if r["role"] == "failing")
    assert failing["as_of_month"] == "2024-08"
    found = counterparties.exposures(engine, "new_display", failing["uscc"], failing["as_of_month"])
    expected = {r["uscc"]: (int(r["tier"]), Decimal(r["loss"])) for r in truth if r["loss"]}
    assert {e.uscc: (e.tier, e.loss) for e in found} == expected
    assert sum(e.loss for e in found) == Decimal("1050000.00")
    members = service.member_rows(engine, "new_display", "")
    assert all(r["uscc"] in members for r in truth if r["segment"])


def test_a_month_later_only_two_months_of_payments_count(region_dir: Path, engine: DuckDBEngine) -> None:
    with (region_dir / CASES_FILE).open(encoding="utf-8") as f:
        failing = next(r for r in csv.DictReader(f) if r["role"] == "failing")
    found = [
        (e.tier, e.loss) for e in counterparties.exposures(engine, "new_display", failing["uscc"], "2024-09")
    ]
    # Window 2024-07..09: two of the three months; the shares (and so the distress) are unchanged.
    assert found == [(1, Decimal("400000.00")), (1, Decimal("200000.00")), (2, Decimal("100000.00"))]
