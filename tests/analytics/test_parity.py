"""Spark parity: every registered query gives the same result on Spark as on DuckDB, on a small region.

Marked `spark`: needs PySpark and a Java runtime, and skips with the reason when either is missing. The
region and the Spark session are built once for the whole run (the JVM takes seconds to start).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake, Query, SparkEngine, register, stop_spark
from jinyu.analytics import registry as registry_module
from tests.chain.parity_cases import chain_overrides, chain_parity_cases
from tests.financing import parity_rows as financing_parity
from tests.risk.tracing import parity_region as tracing_parity

from . import region
from .discover import discover_queries

E = region.ENTERPRISES
ACCOUNTS = [a["account_no"] for a in region._accounts()]
PAGE = {"limit": 1000, "offset": 0}
SHANGHAI = timezone(timedelta(hours=8))


def _period(first: str, end: str, from_month: str, to_month: str) -> dict[str, object]:
    """[first, end) as Shanghai midnights, with the months to prune to."""
    return {
        "from_ts": datetime.fromisoformat(first).replace(tzinfo=SHANGHAI),
        "to_ts": datetime.fromisoformat(end).replace(tzinfo=SHANGHAI),
        "from_month": from_month,
        "to_month": to_month,
    }


# Per query: parameter sets to compare. The first set of each query must return rows, so that no query
# passes only by returning nothing on both engines. A new query needs its cases here (and, if it reads
# a dataset the region lacks, rows for it in region.py).
CASES: dict[str, list[Mapping[str, object]]] = {
    "accounts_of_bank_tree": [
        {"head_code": "H1", **PAGE},
        {"head_code": "H2", **PAGE},
        {"head_code": "H1", "limit": 5, "offset": 3},
        {"head_code": "H1-B1", **PAGE},
        {"head_code": "NOPE", **PAGE},
    ],
    "accounts_of_owner": [{"owner_id": E[0], **PAGE}, {"owner_id": E[0], "limit": 1, "offset": 1}],
    "transfer_monthly_totals": [{}],
    # The card's datasets added after the foundation are optional: this region lacks them (empty on both).
    "credit_card_facts": [{"uscc": E[0]}, {"uscc": E[5]}, {"uscc": "91500000MA99999999"}],
    "credit_card_facts_all": [{}],
    # The bulk card sections (batch snapshots): their JSON text must come out byte for byte the same.
    "credit_card_sections_all": [{}],
    "enterprise_gov_summary": [
        {"uscc": E[0], "as_of_month": "2024-03"},
        {"uscc": E[3], "as_of_month": "2024-06"},
        {"uscc": E[7], "as_of_month": "2023-12"},
        {"uscc": E[1], "as_of_month": "2023-01"},
        {"uscc": E[11], "as_of_month": "2024-06"},  # no government records at all
    ],
    "chain_segment_flows": [
        {
            "chain_code": "new_display",
            "from_month": "2024-01",
            "to_month": "2024-06",
            "segment_overrides": "",
        },
        {"chain_code": "auto", "from_month": "2024-02", "to_month": "2024-04", "segment_overrides": ""},
        {
            "chain_code": "new_display",
            "from_month": "2025-01",
            "to_month": "2025-12",
            "segment_overrides": "",
        },
        # Two members moved (one of them to a segment the dataset never uses), and an unknown USCC.
        {
            "chain_code": "new_display",
            "from_month": "2024-01",
            "to_month": "2024-06",
            "segment_overrides": chain_overrides(E),
        },
    ],
    "accounts_of_bank_subtree": [
        {"root_code": "H1", **PAGE},
        {"root_code": "H1-B1", **PAGE},
        {"root_code": "H2", "limit": 2, "offset": 1},
    ],
    "accounts_of_owner_paged": [{"owner_id": E[2], **PAGE}, {"owner_id": "nobody", **PAGE}],
    "statement_account": [{"account_no": ACCOUNTS[0]}, {"account_no": "nope"}],
    "statement_ledger_lines": [
        {"account_no": ACCOUNTS[0], **_period("2024-01-01", "2024-07-01", "2024-01", "2024-06")},
        # Shanghai February only: the 00:30 transfer of 1 February (still January in UTC) belongs here.
        {"account_no": ACCOUNTS[3], **_period("2024-02-01", "2024-03-01", "2024-02", "2024-02")},
        {"account_no": "nope", **_period("2024-01-01", "2024-07-01", "2024-01", "2024-06")},
    ],
    "statement_months_loaded": [
        {"from_month": "2023-11", "to_month": "2024-03"},
        {"from_month": "2025-01", "to_month": "2025-02"},
    ],
}
CASES.update(chain_parity_cases(E))  # the industrial-chain queries (tests/chain/parity_cases.py)
CASES.update(tracing_parity.cases())  # the fund-tracing queries (tests/risk/tracing/parity_region.py)
CASES.update(financing_parity.cases())  # the financing indicators (tests/financing/parity_rows.py)
ALL_CASES = [(name, i, params) for name, sets in CASES.items() for i, params in enumerate(sets)]


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (it is in the dev dependency group: uv sync)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime on PATH or in JAVA_HOME (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, SparkEngine]]:
    reason = _spark_missing()
    if reason:
        pytest.skip(f"Spark parity suite needs PySpark and Java: {reason}")
    root: Path = tmp_path_factory.mktemp("region") / "lake"
    region.build(Lake(root))
    duck = DuckDBEngine(root)
    yield duck, SparkEngine(root)
    duck.close()
    stop_spark()


def _rows(result: pa.Table) -> list[dict[str, object]]:
    """Rows in a canonical order, so that ties in ORDER BY cannot make equal results look different."""
    return sorted(result.to_pylist(), key=repr)


def test_every_registered_query_has_parity_cases() -> None:
    missing = sorted({q.name for q in discover_queries()} - set(CASES))
    assert missing == [], f"add parity cases for {missing} to CASES in {Path(__file__).name}"


@pytest.mark.spark
@pytest.mark.parametrize(("name", "index", "params"), ALL_CASES, ids=[f"{n}-{i}" for n, i, _ in ALL_CASES])
def test_spark_agrees_with_duckdb(
    engines: tuple[DuckDBEngine, SparkEngine], name: str, index: int, params: Mapping[str, object]
) -> None:
    duck, spark = engines
    expected = duck.run(name, **params)
    actual = spark.run(name, **params)
    assert actual.schema == expected.schema
    assert _rows(actual) == _rows(expected)  # Decimal == Decimal: exact, to the fen
    if index == 0:
        assert expected.num_rows > 0, f"the first case of {name} should return rows"


@pytest.mark.spark
def test_timestamps_and_their_parameters_agree(
    engines: tuple[DuckDBEngine, SparkEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No platform query returns a timestamp yet; this one pins how both engines bind and return them."""
    monkeypatch.setattr(registry_module, "_QUERIES", dict(registry_module._QUERIES))
    register(
        Query(
            name="scratch_transfers_since",
            sql="SELECT txn_id, ts, amount, month FROM transfers WHERE ts >= $since ORDER BY ts LIMIT 20",
            params={"since": datetime},
            description="test only",
        )
    )
    since = datetime(2024, 2, 1, 0, 0, tzinfo=timezone(timedelta(hours=8)))  # Shanghai midnight
    duck, spark = engines
    expected = duck.run("scratch_transfers_since", since=since)
    actual = spark.run("scratch_transfers_since", since=since)
    assert expected.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert actual.schema == expected.schema
    assert actual.to_pylist() == expected.to_pylist()
    assert expected.column("ts")[0].as_py() == datetime(2024, 1, 31, 16, 30, tzinfo=UTC)


@pytest.mark.spark
def test_a_dataset_the_lake_lacks_reads_as_empty_on_both_engines(
    engines: tuple[DuckDBEngine, SparkEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optional dataset (a query's `optional`) without files: the same empty, typed table on both."""
    monkeypatch.setattr(registry_module, "_QUERIES", dict(registry_module._QUERIES))
    schema = pa.schema(
        [
            ("owner_id", pa.string()),
            ("amount", pa.decimal128(18, 2)),
            ("signed", pa.date32()),
            ("month", pa.string()),
        ]
    )
    register(
        Query(
            name="scratch_optional_notes",
            sql="SELECT a.account_no, n.amount, n.signed, n.month FROM accounts AS a "
            "LEFT JOIN never_loaded AS n ON n.owner_id = a.owner_id ORDER BY a.account_no LIMIT 5",
            params={},
            description="test only",
            optional={"never_loaded": schema},
        )
    )
    duck, spark = engines
    expected = duck.run("scratch_optional_notes")
    actual = spark.run("scratch_optional_notes")
    assert expected.num_rows == 5 and expected.column("amount").null_count == 5
    assert actual.schema == expected.schema
    assert actual.to_pylist() == expected.to_pylist()
