"""The lake's layout, append-only writes, and the key and value checks ingestion relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import Lake
from jinyu.core.errors import Conflict, InvalidInput

from .tables import TRANSFER_MIRRORS, load, table


def _rel(lake: Lake, paths: list[Path]) -> list[str]:
    return sorted(str(p.relative_to(lake.root)) for p in paths)


def _transfer(
    txn: str, ts: str, payer: str = "A1", payee: str = "A2", amount: str = "1.00"
) -> dict[str, object]:
    return {"txn_id": txn, "ts": ts, "from_account": payer, "to_account": payee, "amount": amount}


def test_month_strings_partition_and_each_file_is_sorted(lake: Lake) -> None:
    rows = [
        {"uscc": "E2", "period": "2024-02", "tax_paid": "2.00"},
        {"uscc": "E1", "period": "2024-01", "tax_paid": "1.00"},
        {"uscc": "E1", "period": "2024-02", "tax_paid": "3.00"},
    ]
    written = lake.append(
        "tax_monthly", table("tax_monthly", rows), "L1", partition_by="period", sort_by=["uscc"]
    )
    assert _rel(lake, written) == [
        "tax_monthly/month=2024-01/part-L1.parquet",
        "tax_monthly/month=2024-02/part-L1.parquet",
    ]
    feb = pq.read_table(lake.root / "tax_monthly/month=2024-02/part-L1.parquet")
    assert feb.column("uscc").to_pylist() == ["E1", "E2"]
    assert feb.column("tax_paid").to_pylist() == [Decimal("3.00"), Decimal("2.00")]


def test_timestamps_fall_in_their_shanghai_month(lake: Lake) -> None:
    rows = [
        _transfer("T1", "2024-01-31T15:59:59+00:00"),  # 23:59:59 on 31 Jan in Shanghai
        _transfer("T2", "2024-01-31T16:00:00+00:00"),  # 00:00 on 1 Feb in Shanghai
        _transfer("T3", "2024-02-01T08:00:00+08:00"),
    ]
    load(lake, "transfers", rows)
    jan = pq.read_table(lake.root / "transfers/month=2024-01/part-L1.parquet")
    feb = pq.read_table(lake.root / "transfers/month=2024-02/part-L1.parquet")
    assert jan.column("txn_id").to_pylist() == ["T1"]
    assert feb.column("txn_id").to_pylist() == ["T2", "T3"]
    assert feb.schema.field("ts").type == pa.timestamp("us", tz="UTC")


def test_naive_timestamps_are_read_as_utc(lake: Lake) -> None:
    naive = pa.table({"id": ["a"], "ts": pa.array([datetime(2024, 1, 31, 16, 0)], pa.timestamp("us"))})
    lake.append("events", naive, "L1", partition_by="ts", sort_by=["ts"])
    assert _rel(lake, lake.files("events")) == ["events/month=2024-02/part-L1.parquet"]


def test_dates_partition_by_month(lake: Lake) -> None:
    rows = [{"patent_no": "P1", "filed_on": "2023-12-31"}, {"patent_no": "P2", "filed_on": "2024-01-01"}]
    lake.append("patents", table("patents", rows), "L1", partition_by="filed_on", sort_by=[])
    assert _rel(lake, lake.files("patents")) == [
        "patents/month=2023-12/part-L1.parquet",
        "patents/month=2024-01/part-L1.parquet",
    ]


def test_unpartitioned_dataset_is_one_sorted_file(lake: Lake) -> None:
    load(lake, "accounts", [{"account_no": "A3"}, {"account_no": "A1"}, {"account_no": "A2"}])
    assert _rel(lake, lake.files("accounts")) == ["accounts/part-L1.parquet"]
    stored = pq.read_table(lake.files("accounts")[0])
    assert stored.column("account_no").to_pylist() == ["A1", "A2", "A3"]


def test_mirror_holds_the_same_rows_sorted_by_counterparty(lake: Lake) -> None:
    rows = [
        _transfer("T1", "2024-01-02T00:00:00+00:00", payer="A1", payee="B2"),
        _transfer("T2", "2024-01-01T00:00:00+00:00", payer="A2", payee="B1"),
        _transfer("T3", "2024-01-03T00:00:00+00:00", payer="A1", payee="B1"),
    ]
    written = lake.append(
        "transfers", table("transfers", rows), "L1", partition_by="ts", sort_by=["from_account", "ts"],
        mirrors=TRANSFER_MIRRORS,
    )  # fmt: skip
    assert _rel(lake, written) == [
        "transfers/month=2024-01/part-L1.parquet",
        "transfers_by_counterparty/month=2024-01/part-L1.parquet",
    ]
    main = pq.read_table(written[0]).column("txn_id").to_pylist()
    mirror = pq.read_table(written[1]).column("txn_id").to_pylist()
    assert main == ["T1", "T3", "T2"]
    assert mirror == ["T2", "T3", "T1"]


def test_a_second_load_adds_files_and_leaves_the_first_untouched(lake: Lake) -> None:
    load(lake, "transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")], "L1")
    first = lake.root / "transfers/month=2024-01/part-L1.parquet"
    before = (first.read_bytes(), first.stat().st_mtime_ns)
    load(lake, "transfers", [_transfer("T2", "2024-01-06T00:00:00+00:00")], "L2")
    assert (first.read_bytes(), first.stat().st_mtime_ns) == before
    assert _rel(lake, lake.files("transfers")) == [
        "transfers/month=2024-01/part-L1.parquet",
        "transfers/month=2024-01/part-L2.parquet",
    ]
    assert lake.row_count("transfers") == 2
    assert lake.row_count("transfers_by_counterparty") == 2


def test_a_load_id_is_written_once(lake: Lake) -> None:
    load(lake, "transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")], "L1")
    with pytest.raises(Conflict, match="L1"):
        load(lake, "transfers", [_transfer("T9", "2024-03-05T00:00:00+00:00")], "L1")
    assert lake.row_count("transfers") == 1
    assert not (lake.root / "transfers/month=2024-03").exists()


def test_a_load_id_already_in_a_mirror_blocks_the_whole_load(lake: Lake) -> None:
    one = table("transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")])
    lake.append("transfers_by_counterparty", one, "L1", partition_by="ts", sort_by=["to_account"])
    with pytest.raises(Conflict):
        load(lake, "transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")], "L1")
    assert lake.files("transfers") == []


def test_no_temporary_files_are_left_behind(lake: Lake) -> None:
    load(lake, "transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")], "L1")
    leftovers = [p for p in lake.root.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []


def test_an_empty_load_writes_nothing(lake: Lake) -> None:
    assert (
        lake.append("accounts", table("accounts", []), "L1", partition_by=None, sort_by=["account_no"]) == []
    )
    assert lake.datasets() == []


@pytest.mark.parametrize(
    ("rows", "partition_by", "field"),
    [
        ([{"uscc": "E1", "period": None}], "period", "period"),
        ([{"uscc": "E1", "period": "2024-13"}], "period", "period"),
        ([{"uscc": "E1", "period": "2024-1"}], "period", "period"),
        ([{"uscc": "E1", "period": "2024-01"}], "nope", "partition_by"),
        ([{"uscc": "E1", "period": "2024-01", "tax_paid": "1.00"}], "tax_paid", "tax_paid"),
    ],
)
def test_bad_partition_values_are_refused(
    lake: Lake, rows: list[dict[str, object]], partition_by: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        lake.append("tax_monthly", table("tax_monthly", rows), "L1", partition_by=partition_by, sort_by=[])
    assert [f.field for f in err.value.fields] == [field]
    assert lake.files("tax_monthly") == []


@pytest.mark.parametrize(
    ("dataset", "load_id", "field"),
    [
        ("Tax", "L1", "dataset"),
        ("../x", "L1", "dataset"),
        ("tax", "../L1", "load_id"),
        ("tax", ".L1", "load_id"),
    ],
)
def test_names_that_are_not_plain_are_refused(lake: Lake, dataset: str, load_id: str, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        lake.append(dataset, pa.table({"a": [1]}), load_id, partition_by=None, sort_by=[])
    assert err.value.fields[0].field == field


def test_a_partitioned_table_cannot_have_a_month_column(lake: Lake) -> None:
    with pytest.raises(InvalidInput, match="month"):
        lake.append("x", pa.table({"month": ["2024-01"]}), "L1", partition_by="month", sort_by=[])


def test_missing_sort_column_is_refused(lake: Lake) -> None:
    with pytest.raises(InvalidInput) as err:
        lake.append(
            "accounts", table("accounts", [{"account_no": "A1"}]), "L1", partition_by=None, sort_by=["x"]
        )
    assert err.value.fields[0].field == "sort_by"


def test_layout_and_schema_must_match_the_files_already_there(lake: Lake) -> None:
    load(lake, "accounts", [{"account_no": "A1"}])
    again = table("accounts", [{"account_no": "A2", "opened_on": "2024-01-01"}])
    with pytest.raises(InvalidInput) as err:
        lake.append("accounts", again, "L2", partition_by="opened_on", sort_by=[])
    assert err.value.fields[0].field == "partition_by"
    with pytest.raises(InvalidInput) as err:
        lake.append("accounts", again.drop_columns(["currency"]), "L2", partition_by=None, sort_by=[])
    assert err.value.fields[0].field == "table"


def test_nanosecond_timestamps_are_stored_as_microseconds(lake: Lake) -> None:
    ns = pa.array([1_700_000_000_000_000_000], pa.timestamp("ns", tz="UTC"))
    lake.append("events", pa.table({"ts": ns}), "L1", partition_by="ts", sort_by=[])
    assert pq.read_schema(lake.files("events")[0]).field("ts").type == pa.timestamp("us", tz="UTC")
    finer = pa.array([1_700_000_000_000_000_001], pa.timestamp("ns", tz="UTC"))
    with pytest.raises(InvalidInput):
        lake.append("events", pa.table({"ts": finer}), "L2", partition_by="ts", sort_by=[])


def test_listing_helpers(lake: Lake) -> None:
    assert (lake.datasets(), lake.files("accounts"), lake.row_count("accounts")) == ([], [], 0)
    load(lake, "accounts", [{"account_no": "A1"}, {"account_no": "A2"}])
    load(lake, "transfers", [_transfer("T1", "2024-01-05T00:00:00+00:00")])
    (lake.root / "accounts" / ".part-L9.parquet.0.tmp").write_bytes(b"half written")
    assert lake.datasets() == ["accounts", "transfers", "transfers_by_counterparty"]
    assert _rel(lake, lake.files("accounts")) == ["accounts/part-L1.parquet"]
    assert lake.row_count("accounts") == 2


def test_existing_keys_mask_follows_the_incoming_rows(lake: Lake) -> None:
    load(lake, "tax_monthly", [{"uscc": "E1", "period": "2024-01"}, {"uscc": "E2", "period": "2024-02"}])
    incoming = table(
        "tax_monthly",
        [
            {"uscc": "E2", "period": "2024-02"},
            {"uscc": "E1", "period": "2024-02"},  # right uscc, other month
            {"uscc": "E1", "period": "2024-01"},
            {"uscc": None, "period": "2024-01"},  # a null key is never "already there"
        ],
    )
    mask = lake.existing_keys_mask("tax_monthly", ["uscc", "period"], incoming)
    assert mask.to_pylist() == [True, False, True, False]


def test_existing_keys_mask_on_many_rows_in_many_chunks(lake: Lake) -> None:
    ids = [f"T{i:06d}" for i in range(30_000)]
    ts = datetime(2024, 1, 5, tzinfo=UTC)
    load(lake, "transfers", [_transfer(t, ts.isoformat()) for t in ids[::3]])
    incoming = pa.concat_tables(
        [table("transfers", [{"txn_id": t} for t in ids[k : k + 7_000]]) for k in range(0, 30_000, 7_000)]
    )
    mask = lake.existing_keys_mask("transfers", ["txn_id"], incoming).to_pylist()
    assert mask == [i % 3 == 0 for i in range(30_000)]


def test_existing_keys_mask_without_data(lake: Lake) -> None:
    incoming = table("accounts", [{"account_no": "A1"}, {"account_no": "A2"}])
    assert lake.existing_keys_mask("accounts", ["account_no"], incoming).to_pylist() == [False, False]


def test_existing_keys_mask_refuses_a_key_column_the_lake_lacks(lake: Lake) -> None:
    load(lake, "accounts", [{"account_no": "A1"}])
    # An unpartitioned dataset has no `month` column, even though the incoming table does.
    incoming = table("accounts", [{"account_no": "A1"}]).append_column("month", pa.array(["2024-01"]))
    with pytest.raises(InvalidInput) as err:
        lake.existing_keys_mask("accounts", ["account_no", "month"], incoming)
    assert err.value.fields[0].field == "key_cols"


def test_existing_values(lake: Lake) -> None:
    assert lake.existing_values("accounts", "account_no", ["A1"]) == set()
    load(lake, "accounts", [{"account_no": "A1"}, {"account_no": "A2"}, {"account_no": "A3"}])
    assert lake.existing_values("accounts", "account_no", ["A3", "A1", "A9", "A1"]) == {"A1", "A3"}
    assert lake.existing_values("accounts", "account_no", []) == set()
    with pytest.raises(InvalidInput) as err:
        lake.existing_values("accounts", "nope", ["A1"])
    assert err.value.fields[0].field == "column"
