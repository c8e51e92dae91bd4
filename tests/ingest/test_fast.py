"""The vectorised path accepts exactly what the row path accepts, and defers everything else."""

from __future__ import annotations

import pyarrow as pa
import pytest

from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.fast import typed_batch
from jinyu.ingest.pipeline import arrow_schema
from jinyu.ingest.rules import validate_row
from tests.fixtures.auth import resident_id, uscc

TRANSFER = {
    "txn_id": "T1",
    "ts": "2026-01-31T23:30:00",
    "from_account": "A1",
    "to_account": "A2",
    "amount": "12.50",
    "currency": "CNY",
    "channel": "online",
    "memo": "",
}
ENTERPRISE = {
    "uscc": uscc(),
    "name": "某公司",
    "industry_code": "C3974",
    "district_code": "500103",
    "registered_capital": "100",
    "established_on": "2018-05-01",
    "address": "地址",
    "phone": "",
    "legal_rep_id": resident_id(),
    "legal_rep_name": "张三",
    "status": "active",
}


def _batch(rows: list[dict[str, str]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))


def _row_path(dataset: str, rows: list[dict[str, str]]) -> list[dict[str, object]]:
    out = []
    for row in rows:
        typed, problems = validate_row(CONTRACTS[dataset], row)
        assert not problems
        out.append(typed)
    return out


@pytest.mark.parametrize(
    ("dataset", "rows"),
    [
        ("transfers", [TRANSFER, TRANSFER | {"txn_id": "T2", "ts": "2026-02-01T00:10:00", "amount": "7"}]),
        (
            "transfers",
            [TRANSFER | {"ts": "2026-02-01T00:10:00+08:00"}, TRANSFER | {"ts": "2026-02-01T00:10:00Z"}],
        ),
        ("enterprises", [ENTERPRISE]),
    ],
)
def test_clean_batches_take_the_fast_path_with_the_same_values(
    dataset: str, rows: list[dict[str, str]]
) -> None:
    contract = CONTRACTS[dataset]
    fast = typed_batch(contract, _batch(rows), arrow_schema(contract))
    assert fast is not None
    assert fast.to_pylist() == _row_path(dataset, rows)


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": "1.001"},
        {"amount": "abc"},
        {"amount": "0.00"},
        {"ts": "31/01/2026"},
        {"channel": "pigeon"},
        {"txn_id": ""},
    ],
)
def test_any_doubt_defers_to_the_row_path(bad: dict[str, str]) -> None:
    contract = CONTRACTS["transfers"]
    assert typed_batch(contract, _batch([TRANSFER, TRANSFER | bad]), arrow_schema(contract)) is None


def test_check_digits_and_normalisation_defer() -> None:
    contract = CONTRACTS["enterprises"]
    for bad in ({"uscc": "91500000MA00000000"}, {"uscc": ENTERPRISE["uscc"].lower()}):
        assert typed_batch(contract, _batch([ENTERPRISE | bad]), arrow_schema(contract)) is None
