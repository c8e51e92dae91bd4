"""Every generated file follows its dataset contract: columns, types, required values, choices and checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jinyu.core.districts import validate_district
from jinyu.core.ids import validate_resident_id, validate_uscc
from jinyu.core.industry import validate_industry
from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER, Check, Column, Kind
from jinyu.synth import Manifest
from jinyu.synth.schema import DATASETS

CHECKS: dict[Check, Callable[[str], str]] = {
    Check.USCC: validate_uscc,
    Check.RESIDENT_ID: validate_resident_id,
    Check.INDUSTRY: validate_industry,
    Check.DISTRICT: validate_district,
}
PARQUET_TYPES = {
    Kind.STRING: pa.string(),
    Kind.MONTH: pa.string(),
    Kind.INT: pa.int64(),
    Kind.DECIMAL: pa.decimal128(18, 2),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="Asia/Shanghai"),
    Kind.BOOL: pa.bool_(),
}
CSV_FORMATS = {
    Kind.DECIMAL: re.compile(r"^-?\d+\.\d{2}$"),
    Kind.DATE: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    Kind.INT: re.compile(r"^-?\d+$"),
    Kind.BOOL: re.compile(r"^(true|false)$"),
    Kind.MONTH: re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
    Kind.TIMESTAMP: re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$"),
}

# Contracts the generator writes as empty files (none since 1.6 writes balances of record).
NOT_GENERATED: set[str] = set()


def test_generator_schema_mirrors_the_contracts() -> None:
    assert tuple(DATASETS) == LOAD_ORDER
    for name, contract in CONTRACTS.items():
        mirrored = [(c.name, c.kind, c.required) for c in DATASETS[name].columns]
        assert mirrored == [(c.name, str(c.kind), c.required) for c in contract.columns], name


def test_manifest_lists_every_dataset_in_its_format(manifest: Manifest) -> None:
    assert list(manifest.datasets) == list(LOAD_ORDER)
    big = {"transfers", "accounts", "loans", "tax_monthly", "headcount_monthly"}
    for name, ds in manifest.datasets.items():
        assert ds.format == ("parquet" if name in big else "csv")
        assert ds.rows > 0 or name in NOT_GENERATED, name


@pytest.mark.parametrize("name", [n for n in LOAD_ORDER if DATASETS[n].parquet])
def test_parquet_types(region_dir: Path, manifest: Manifest, name: str) -> None:
    for f in manifest.datasets[name].files:
        schema = pq.read_schema(region_dir / f.path)
        assert schema.names == list(CONTRACTS[name].column_names)
        for col in CONTRACTS[name].columns:
            assert schema.field(col.name).type == PARQUET_TYPES[col.kind], (name, col.name)


def test_csv_files_are_utf8_with_header_and_unix_line_ends(region_dir: Path, manifest: Manifest) -> None:
    for name, ds in manifest.datasets.items():
        if ds.format != "csv":
            continue
        raw = (region_dir / ds.files[0].path).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        assert raw.decode("utf-8").split("\n", 1)[0] == ",".join(CONTRACTS[name].column_names)


def _check_value(name: str, col: Column, value: Any, is_csv: bool) -> None:
    where = f"{name}.{col.name}={value!r}"
    if value is None:
        assert not col.required, f"missing required {where}"
        return
    if is_csv and col.kind in CSV_FORMATS:
        assert CSV_FORMATS[col.kind].match(value), where
    if col.kind == Kind.MONTH:
        assert re.match(r"^\d{4}-(0[1-9]|1[0-2])$", value), where
    if col.kind == Kind.DECIMAL and not is_csv:
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -2, where
    if col.choices:
        assert value in col.choices, where
    if col.check:
        CHECKS[col.check](value)
    if col.min_value is not None:
        assert Decimal(str(value)) >= Decimal(str(col.min_value)), where
    if col.kind == Kind.STRING:
        assert value == value.strip() and value, where


@pytest.mark.parametrize("name", LOAD_ORDER)
def test_every_row_conforms(rows: Callable[[str], list[dict[str, Any]]], name: str) -> None:
    contract = CONTRACTS[name]
    is_csv = not DATASETS[name].parquet
    data = rows(name)
    for row in data:
        assert tuple(row) == contract.column_names
        for col in contract.columns:
            _check_value(name, col, row[col.name], is_csv)


@pytest.mark.parametrize("name", LOAD_ORDER)
def test_keys_are_unique(rows: Callable[[str], list[dict[str, Any]]], name: str) -> None:
    key = CONTRACTS[name].key
    values = [tuple(r[k] for k in key) for r in rows(name)]
    assert len(values) == len(set(values)), name


def test_times_fall_inside_the_window(
    rows: Callable[[str], list[dict[str, Any]]], manifest: Manifest
) -> None:
    first = dt.date.fromisoformat(manifest.first_period + "-01")
    last = dt.date.fromisoformat(manifest.reference_date)
    for row in rows("transfers"):
        assert first <= row["ts"].date() <= last
    for row in rows("loans"):
        assert first <= row["disbursed_at"].date() <= last
