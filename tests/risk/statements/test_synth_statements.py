"""The synthetic region's presented statements: every file parses, and verification reaches the labelled
verdict with exactly the planted findings (on a lake loaded straight from the region's files)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from jinyu.risk.statements import rules
from jinyu.risk.statements.parsing import parse
from jinyu.risk.statements.service import balance_of_record, ledger_lines
from jinyu.synth import generate
from jinyu.synth.statements import KINDS, LABELS_FILE, STATEMENTS_DIR


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate(out, "small", 7, progress=False)
    return out


@pytest.fixture(scope="module")
def engine(region: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    lake = Lake(tmp_path_factory.mktemp("lake"))
    lake.append("accounts", pq.read_table(region / "accounts.parquet"), "L1", partition_by=None,
                sort_by=("account_no",))  # fmt: skip
    lake.append(
        "transfers",
        pq.read_table(region / "transfers.parquet"),
        "L1",
        partition_by="ts",
        sort_by=("from_account", "ts"),
        mirrors={"transfers_by_counterparty": ("to_account", "ts")},
    )
    balances = pacsv.read_csv(
        region / "opening_balances.csv",
        convert_options=pacsv.ConvertOptions(column_types=arrow_schema(CONTRACTS["opening_balances"])),
    )
    lake.append("opening_balances", balances, "L1", partition_by=None, sort_by=("account_no", "as_of"))
    engine = DuckDBEngine(lake.root)
    yield engine
    engine.close()


def _labels(region: Path) -> list[dict[str, str]]:
    with (region / STATEMENTS_DIR / LABELS_FILE).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_kind_is_written_in_both_formats(region: Path) -> None:
    labels = _labels(region)
    assert [(r["tampering"], r["format"], r["expected_verdict"]) for r in labels] == list(KINDS)
    assert {Path(r["file"]).suffix for r in labels} == {".csv", ".xml"}


def test_verification_reaches_the_labelled_verdict(region: Path, engine: DuckDBEngine) -> None:
    for label in _labels(region):
        statement = parse((region / STATEMENTS_DIR / label["file"]).read_bytes())
        assert statement.account_no == label["account_no"] and len(statement.lines) == int(label["lines"])
        ledger = ledger_lines(engine, statement, rules.DEFAULT_THRESHOLDS.date_tolerance_days)
        rec = rules.reconcile(statement, ledger)
        # the balance of record, as the service checks it (generator 1.6 writes it for every statement)
        record = balance_of_record(engine, statement)
        assert record is not None and record[1] == Decimal(label["opening_of_record"]), label["file"]
        if (found := rules.opening_of_record_break(statement, *record)) is not None:
            rec.balance_breaks.insert(0, found)
            gap = found.stated - found.expected
            assert gap == Decimal(label["opening_break"]) == Decimal("50000.00"), label["file"]
        else:
            assert label["opening_break"] == "", label["file"]
        s = rules.summarise(statement, ledger, rec, rules.DEFAULT_THRESHOLDS)
        found = (s.verdict.value, s.fabricated, s.hidden, s.altered, s.balance_breaks)
        planted = (label["expected_verdict"], int(label["inserted"]), int(label["deleted"]),
                   int(label["altered"]), int(label["balance_breaks"]))  # fmt: skip
        assert found == planted, label["file"]


def test_same_seed_same_statement_bytes(region: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, "small", 7, progress=False)
    names = sorted(p.name for p in (region / STATEMENTS_DIR).iterdir())
    assert (
        names == sorted(p.name for p in (again / STATEMENTS_DIR).iterdir()) and len(names) == len(KINDS) + 1
    )
    for name in names:
        assert (again / STATEMENTS_DIR / name).read_bytes() == (
            region / STATEMENTS_DIR / name
        ).read_bytes(), name
