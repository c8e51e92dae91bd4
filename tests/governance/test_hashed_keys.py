"""Hashed key columns (`jinyu.analytics.keys`): the key is BLAKE2b of the text, the reference rule compares
the keys when both datasets carry them, and every count equals the text comparison's (DuckDB and Spark),
over the whole dataset and over a file subset (incremental checks)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics.keys import key_array, key_column, with_keys
from jinyu.governance import incremental, service
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.contracts.base import Level
from jinyu.governance.queries import run_plan
from jinyu.governance.sqlplan import compile_plan
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import uscc

AS_OF = dt.date(2026, 12, 6)
LOAN_RULES = [r for r in service.standard_rules() if r.dataset == "loans"]
BOTH = {"loans", "enterprises"}


def _blake(text: str) -> int:
    digest = hashlib.blake2b(text.encode(), digest_size=8, person=b"jinyu-key").digest()
    return int.from_bytes(digest, "big", signed=True)


def test_the_key_is_blake2b_of_the_text_and_null_stays_null() -> None:
    values = pa.chunked_array([["91500000MA5U0001X", None], ["统一代码", "91500000MA5U0001X"]])
    keys = key_array(values).to_pylist()
    assert keys == [_blake("91500000MA5U0001X"), None, _blake("统一代码"), _blake("91500000MA5U0001X")]
    assert keys[0] != keys[2]
    table = with_keys(pa.table({"code": ["a", "b"]}), ["code"])
    assert table.column_names == ["code", "code__key"]
    assert with_keys(table, ["code"]).column_names == ["code", "code__key"]  # replaced, not added twice


def test_only_non_personal_columns_are_hashed() -> None:
    hashed = {(c.name, col) for c in CONTRACTS.values() for col in c.hashed}
    assert {("loans", "borrower_uscc"), ("enterprises", "uscc"), ("tax_monthly", "uscc")} <= hashed
    for dataset, name in hashed:
        column = CONTRACTS[dataset].column(name)
        assert column.level in (Level.PUBLIC, Level.INTERNAL) and column.protect is None, (dataset, name)


def _write(lake: Lake, dataset: str, rows: list[dict[str, Any]], load_id: str, keyed: bool) -> None:
    contract = CONTRACTS[dataset]
    table = pa.Table.from_pylist(rows, schema=arrow_schema(contract))
    if keyed:
        table = with_keys(table, contract.hashed)
    lake.append(dataset, table, load_id, partition_by=contract.partition_by, sort_by=("loan_id",)
                if dataset == "loans" else ())  # fmt: skip


def _enterprises(numbers: range) -> list[dict[str, Any]]:
    return [
        {"uscc": uscc(9000 + i), "name": f"企业{i}", "industry_code": "C3974", "district_code": "500103",
         "registered_capital": 1000, "established_on": dt.date(2015, 1, 1), "address": "a", "phone": None,
         "legal_rep_id": "t", "legal_rep_name": "张*", "status": "active"}
        for i in numbers
    ]  # fmt: skip


def _loans(month: int, borrowers: list[int | str], terms: list[int], load_id: str) -> list[dict[str, Any]]:
    return [
        {"loan_id": f"{load_id}-{i}", "bank_code": "B1" if i % 2 else "B2",
         "borrower_uscc": uscc(9000 + n) if isinstance(n, int) else n,
         "disbursement_account": "6222000000000001", "amount": Decimal("1000.00"),
         "disbursed_at": dt.datetime(2026, month, 3, 4, tzinfo=dt.UTC), "term_months": term,
         "declared_purpose": "working_capital"}
        for i, (n, term) in enumerate(zip(borrowers, terms, strict=True))
    ]  # fmt: skip


def _lake(root: Path, keyed: bool) -> Lake:
    lake = Lake(root)
    _write(lake, "enterprises", _enterprises(range(4)), "E1", keyed)
    _write(lake, "loans", _loans(9, [0, 1, 7, 2], [12, 600, 12, 24], "L09"), "L09", keyed)
    _write(lake, "loans", _loans(10, [3, 8, 8, "9150XXXX"], [12, 12, 0, 12], "L10"), "L10", keyed)
    return lake


@pytest.fixture
def lakes(tmp_path: Path) -> tuple[Lake, Lake]:
    """The same records twice: with hashed keys (as ingestion writes them) and without (an older lake)."""
    return _lake(tmp_path / "keyed", True), _lake(tmp_path / "text", False)


def _canonical(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted((k, v) for k, v in r.items() if k != "file")) for r in rows)


def _full(engine: Any, lake: Lake) -> tuple[str, list[tuple[Any, ...]]]:
    keyed = service.keyed_columns(lake, "loans", LOAN_RULES)
    plan = compile_plan("loans", LOAN_RULES, BOTH, True, keyed=keyed)
    return plan.sql, _canonical(run_plan(engine, plan, {"as_of": AS_OF}))


def test_the_lake_says_which_columns_have_keys(lakes: tuple[Lake, Lake], tmp_path: Path) -> None:
    keyed, text = lakes
    assert service.keyed_columns(keyed, "loans", LOAN_RULES) == {"loans.borrower_uscc", "enterprises.uscc"}
    assert service.keyed_columns(text, "loans", LOAN_RULES) == set()
    assert keyed.takes_keys("loans", ("borrower_uscc",)) and not text.takes_keys("loans", ("borrower_uscc",))
    assert Lake(tmp_path / "new").takes_keys("loans", ("borrower_uscc",))  # a new dataset starts with keys
    stored = pq.read_table(keyed.files("enterprises")[0])
    assert stored[key_column("uscc")].to_pylist() == [_blake(uscc(9000 + i)) for i in range(4)]


def test_keys_give_the_text_comparisons_counts(lakes: tuple[Lake, Lake]) -> None:
    keyed, text = lakes
    on_keys, on_text = DuckDBEngine(keyed.root), DuckDBEngine(text.root)
    try:
        keyed_sql, keyed_rows = _full(on_keys, keyed)
        text_sql, text_rows = _full(on_text, text)
    finally:
        on_keys.close()
        on_text.close()
    assert '"borrower_uscc__key"' in keyed_sql and '"uscc__key"' in keyed_sql
    assert "__key" not in text_sql
    assert keyed_rows == text_rows
    # By hand: 8 loans; borrowers 7, 8, 8 and the malformed code are unregistered (4 reference failures);
    # the 600-month and the 0-month term (the latter also unregistered) → 5 anomalous records.
    totals = {k: sum(dict(r)[k] for r in keyed_rows) for k in ("n_rows", "r0", "r2", "n_anomalous")}
    assert totals == {"n_rows": 8, "r0": 2, "r2": 4, "n_anomalous": 5}


def test_incremental_checks_on_keys_add_up_to_the_full_scan(lakes: tuple[Lake, Lake]) -> None:
    keyed, _ = lakes
    engine = DuckDBEngine(keyed.root)
    try:
        cache = incremental.MemoryCache()
        plan = compile_plan("loans", LOAN_RULES, BOTH, True, source=incremental.SOURCE,
                            keyed=service.keyed_columns(keyed, "loans", LOAN_RULES))  # fmt: skip
        files = {d: keyed.files(d) for d in BOTH}
        scanned = incremental.scan(engine, plan, {"as_of": AS_OF}, files, cache)
        _, full = _full(engine, keyed)
    finally:
        engine.close()
    assert scanned.scanned_files == 2
    summed: dict[tuple[str, str], dict[str, int]] = {}
    for row in scanned.rows:
        cell = summed.setdefault((row["period"], row["provider"]), {})
        for k, v in row.items():
            if k.startswith(("n_", "r")):
                cell[k] = cell.get(k, 0) + int(v)
    assert (
        sorted(tuple(sorted({"period": p, "provider": b, **c}.items())) for (p, b), c in summed.items())
        == full
    )


# -- NULL keys, absent and twice-registered codes: counted by hand, on keys and on text, DuckDB and Spark --------

# (month, bank, borrower, term): a borrower is an enterprise number (uscc(9000 + n)), a raw code or None.
EDGE_LOANS: list[tuple[int, str, int | str | None, int]] = [
    (9, "B1", 0, 12),  # registered
    (9, "B1", 1, 12),  # registered twice: one verdict, not two
    (9, "B2", 1, 600),  # registered twice; fails the term range only
    (9, "B2", None, 12),  # no borrower: never fails the reference
    (9, "B2", 5, 12),  # unregistered
    (10, "B1", 5, 12),  # the same unregistered code in another month: fails there too
    (10, "B1", 5, 0),  # unregistered and a bad term: one anomalous record, two rule failures
    (10, "B1", "9150XXXX", 12),  # malformed, unregistered
    (10, "B2", None, 600),  # no borrower, bad term
    (10, "B2", 0, 12),  # registered
]
# By hand, per (month, bank): records, term failures (r0), reference failures (r2), anomalous records.
EDGE_EXPECTED = {
    ("2026-09", "B1"): {"n_rows": 2, "r0": 0, "r2": 0, "n_anomalous": 0},
    ("2026-09", "B2"): {"n_rows": 3, "r0": 1, "r2": 1, "n_anomalous": 2},
    ("2026-10", "B1"): {"n_rows": 3, "r0": 1, "r2": 3, "n_anomalous": 3},
    ("2026-10", "B2"): {"n_rows": 2, "r0": 1, "r2": 0, "n_anomalous": 1},
}


def _edge_lake(root: Path, keyed: bool) -> Lake:
    """Enterprises 0 and 1 registered, 1 twice (two loads), plus a registration without a code; the loans
    above. Nullable schemas: the SQL must be right on values ingestion would not let through."""
    lake = Lake(root)

    def write(dataset: str, rows: list[dict[str, Any]], load_id: str) -> None:
        contract = CONTRACTS[dataset]
        schema = pa.schema([f.with_nullable(True) for f in arrow_schema(contract)])
        table = pa.Table.from_pylist(rows, schema=schema)
        if keyed:
            table = with_keys(table, contract.hashed)
        lake.append(dataset, table, load_id, partition_by=contract.partition_by, sort_by=contract.sort_by)

    nameless = {**_enterprises(range(1))[0], "uscc": None}
    write("enterprises", [*_enterprises(range(2)), nameless], "E1")
    write("enterprises", _enterprises(range(1, 2)), "E2")
    loans = [
        {**_loans(month, [0], [term], f"L{i:02d}")[0], "loan_id": f"L{i:02d}", "bank_code": bank,
         "borrower_uscc": uscc(9000 + who) if isinstance(who, int) else who}
        for i, (month, bank, who, term) in enumerate(EDGE_LOANS)
    ]  # fmt: skip
    write("loans", loans, "L1")
    return lake


def _by_cell(rows: list[dict[str, Any]], plan: Any) -> dict[tuple[str, str], dict[str, int]]:
    codes = [r.code for r in plan.row_rules]
    term, ref = codes.index("loans.term_months.range"), codes.index("loans.borrower.registered")
    return {
        (row["period"], row["provider"]): {"n_rows": int(row["n_rows"]), "r0": int(row[f"r{term}"]),
                                           "r2": int(row[f"r{ref}"]), "n_anomalous": int(row["n_anomalous"])}
        for row in rows
    }  # fmt: skip


def _edge_counts(engine: Any, lake: Lake) -> tuple[str, dict[tuple[str, str], dict[str, int]]]:
    plan = compile_plan(
        "loans", LOAN_RULES, BOTH, True, keyed=service.keyed_columns(lake, "loans", LOAN_RULES)
    )
    return plan.sql, _by_cell(run_plan(engine, plan, {"as_of": AS_OF}), plan)


def test_null_absent_and_twice_registered_codes_count_as_by_hand(tmp_path: Path) -> None:
    keyed, text = _edge_lake(tmp_path / "keyed", True), _edge_lake(tmp_path / "text", False)
    assert pq.read_table(keyed.files("loans")[0])[key_column("borrower_uscc")].null_count > 0
    on_keys, on_text = DuckDBEngine(keyed.root), DuckDBEngine(text.root)
    try:
        keyed_sql, keyed_counts = _edge_counts(on_keys, keyed)
        text_sql, text_counts = _edge_counts(on_text, text)
        # The file-subset form (incremental checks) joins the same way and adds up to the same counts.
        plan = compile_plan("loans", LOAN_RULES, BOTH, True, source=incremental.SOURCE,
                            keyed=service.keyed_columns(keyed, "loans", LOAN_RULES))  # fmt: skip
        scanned = incremental.scan(
            on_keys, plan, {"as_of": AS_OF}, {d: keyed.files(d) for d in BOTH}, incremental.MemoryCache()
        )
    finally:
        on_keys.close()
        on_text.close()
    assert keyed_counts == EDGE_EXPECTED
    assert text_counts == EDGE_EXPECTED
    assert _by_cell(scanned.rows, plan) == EDGE_EXPECTED
    # Keys: every record probes the target's distinct keys, with no distinct step over the records; text:
    # the records' distinct unknown values, as before.
    assert 'SELECT DISTINCT "uscc__key" AS k FROM "enterprises"' in keyed_sql
    assert 'SELECT DISTINCT "borrower_uscc__key"' not in keyed_sql
    assert 'SELECT DISTINCT "borrower_uscc" AS v FROM "loans"' in text_sql


@pytest.mark.spark
def test_spark_counts_the_null_and_absent_codes_alike(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from jinyu.analytics import SparkEngine

    for keyed in (True, False):
        lake = _edge_lake(tmp_path / str(keyed), keyed)
        assert _edge_counts(SparkEngine(lake.root), lake)[1] == EDGE_EXPECTED


@pytest.mark.spark
def test_spark_counts_the_keyed_plan_alike(lakes: tuple[Lake, Lake]) -> None:
    pytest.importorskip("pyspark")
    from jinyu.analytics import SparkEngine

    keyed, _ = lakes
    duck, spark = DuckDBEngine(keyed.root), SparkEngine(keyed.root)
    try:
        duck_sql, on_duck = _full(duck, keyed)
        spark_sql, on_spark = _full(spark, keyed)
    finally:
        duck.close()
    assert duck_sql == spark_sql and "__key" in duck_sql
    assert on_spark == on_duck
