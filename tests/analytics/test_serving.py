"""The serving pieces: in-memory tables that follow the lake's loads, file listings, and the transfer index."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake, Query, layout, register
from jinyu.analytics import registry as registry_module
from jinyu.analytics.flowindex import build
from jinyu.analytics.listing import dataset_files
from jinyu.analytics.serving import ServingEngine, shared_engine
from jinyu.core.errors import InvalidInput, NotFound

from .tables import load


def _transfer(txn: str, ts: str, src: str, dst: str, amount: str) -> dict[str, object]:
    return {"txn_id": txn, "ts": ts, "from_account": src, "to_account": dst, "amount": amount}


def test_the_same_queries_answer_the_same_and_follow_new_loads(lake: Lake, duck: DuckDBEngine) -> None:
    serving = ServingEngine(lake.root)
    load(lake, "accounts", [{"account_no": f"A{i:03d}", "owner_id": f"E{i % 3}"} for i in range(12)], "L1")
    args = {"owner_id": "E1", "limit": 100, "offset": 0}
    assert serving.run("accounts_of_owner", **args).equals(duck.run("accounts_of_owner", **args))
    load(lake, "accounts", [{"account_no": "B001", "owner_id": "E1"}], "L2")
    after = serving.run("accounts_of_owner", **args)
    assert after.equals(duck.run("accounts_of_owner", **args))
    assert "B001" in after.column("account_no").to_pylist()
    load(lake, "transfers", [_transfer("T1", "2024-01-05T04:00:00+00:00", "A1", "A2", "1.00")], "L1")
    assert serving.run("transfer_monthly_totals").column("txn_count").to_pylist() == [1]  # a view
    serving.close()


def test_a_missing_dataset_is_named_and_threads_share_the_engine(lake: Lake) -> None:
    serving = ServingEngine(lake.root)
    with pytest.raises(NotFound, match="'accounts'"):
        serving.run("accounts_of_owner", owner_id="E1", limit=1, offset=0)
    load(lake, "accounts", [{"account_no": f"A{i:03d}", "owner_id": f"E{i % 4}"} for i in range(40)])

    def run(owner: str) -> list[object]:
        return list(serving.run("accounts_of_owner", owner_id=owner, limit=100, offset=0).column("owner_id"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, [f"E{i % 4}" for i in range(16)]))
    assert [len(r) for r in results] == [10] * 16
    assert shared_engine(lake.root) is shared_engine(lake.root)
    serving.close()


def test_listing_is_what_layout_lists(lake: Lake) -> None:
    load(lake, "transfers", [_transfer("T1", "2024-01-05T04:00:00+00:00", "A1", "A2", "1.00")], "L1")
    load(lake, "transfers", [_transfer("T2", "2024-03-05T04:00:00+00:00", "A1", "A2", "1.00")], "L2")
    (layout.dataset_dir(lake.root, "transfers") / "month=2024-01" / ".part-x.parquet.tmp").write_text("")
    expected = tuple(
        (p.relative_to(lake.root).as_posix(), p.stat().st_size, p.stat().st_ino)
        for p in layout.data_files(lake.root, "transfers")
    )
    assert dataset_files(lake.root, "transfers") == expected
    assert len(expected) == 2
    assert dataset_files(lake.root, "nothing") == ()


def test_listing_orders_paths_part_by_part_as_layout_does(tmp_path: Path) -> None:
    """ "a-b/y" sorts after "a/z" part by part ("a" < "a-b") though "-" sorts before "/" as plain text."""
    base = layout.dataset_dir(tmp_path, "things")
    for rel in ("a/z.parquet", "a-b/y.parquet", "a.parquet", "a/_skipped.parquet"):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(b"x" * len(rel))
    expected = [p.relative_to(tmp_path).as_posix() for p in layout.data_files(tmp_path, "things")]
    assert expected == ["things/a/z.parquet", "things/a-b/y.parquet", "things/a.parquet"]
    assert [f[0] for f in dataset_files(tmp_path, "things")] == expected
    assert [f[1] for f in dataset_files(tmp_path, "things")] == [11, 13, 9]


def test_the_index_lays_transfers_out_by_account_and_time(lake: Lake, tmp_path: Path) -> None:
    load(
        lake,
        "transfers",
        [
            _transfer("T3", "2024-01-05T04:00:00+00:00", "B", "A", "3.00"),
            _transfer("T2", "2024-01-05T04:00:00+00:00", "B", "C", "2.00"),
            _transfer("T1", "2024-01-06T04:00:00+00:00", "A", "B", "1.00"),
            _transfer("T4", "2024-02-01T04:00:00+00:00", "B", "A", "1234567890.12"),
        ],
    )
    index = build(lake.root)
    assert index.accounts.tolist() == [b"A", b"B", b"C"]
    assert index.out_offsets.tolist() == [0, 1, 4, 4]
    assert index.out_amount.tolist() == [100, 200, 300, 123456789012]  # B's: by time, then txn id
    assert index.out_dst.tolist() == [1, 2, 0, 0]
    assert index.in_offsets.tolist() == [0, 2, 3, 4]
    assert np.diff(index.in_prefix).tolist() == [300, 123456789012, 100, 200]
    assert index.lookup(["B", "Z", "C", "AB"]).tolist() == [1, -1, 2, -1]
    b = np.array([1], dtype=np.int64)
    jan5 = np.array([1704427200000000], dtype=np.int64)  # 2024-01-05T04:00Z in µs
    lo, hi = index.out_window(b, jan5 - 1, jan5)
    assert (lo.tolist(), hi.tolist()) == ([1], [3])  # after < ts <= until
    lo, hi = index.out_window(b, jan5, jan5 + 10**13)
    assert (lo.tolist(), hi.tolist()) == ([3], [4])
    a = np.array([0], dtype=np.int64)
    assert index.inflow(a, jan5, jan5).tolist() == [300]  # since <= ts <= until
    assert index.names(np.array([2, 0])) == ["C", "A"]


def test_an_optional_dataset_reads_as_empty_until_its_first_load(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query may name datasets a lake lacks (added to the hub later): no rows, until files appear."""
    monkeypatch.setattr(registry_module, "_QUERIES", dict(registry_module._QUERIES))
    schema = pa.schema([("owner_id", pa.string()), ("note", pa.string()), ("signed", pa.date32())])
    with_month = schema.append(pa.field("month", pa.string()))
    sql = (
        "SELECT a.account_no, n.note, n.month FROM accounts AS a LEFT JOIN notes AS n ON n.owner_id = a.owner_id "
        "ORDER BY a.account_no"
    )
    register(Query("scratch_optional", sql, {}, "test only", optional={"notes": with_month}))
    with pytest.raises(InvalidInput):
        Query("scratch_bad", sql, {}, "test only", optional={"elsewhere": with_month})
    load(lake, "accounts", [{"account_no": f"A{i}", "owner_id": f"E{i}"} for i in range(2)])
    engines = [DuckDBEngine(lake.root), ServingEngine(lake.root)]
    for engine in engines:
        result = engine.run("scratch_optional")
        assert result.column("note").to_pylist() == [None, None]
        assert result.schema.field("month").type == pa.string()
    notes = pa.table({"owner_id": ["E1"], "note": ["hi"], "signed": [dt.date(2024, 2, 3)]}, schema=schema)
    lake.append("notes", notes, "L1", partition_by="signed", sort_by=())
    for engine in engines:
        assert engine.run("scratch_optional").to_pylist() == [
            {"account_no": "A0", "note": None, "month": None},
            {"account_no": "A1", "note": "hi", "month": "2024-02"},
        ]
        engine.close()
