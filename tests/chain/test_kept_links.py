"""A build's links kept as arrays beside the lake (`jinyu.chain.kept_links`): a month ranked cold later reads
them, not the lake, and ranks exactly as from the lake's rows; a file not of that build's shape is not used."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.analytics.results import store_dir
from jinyu.chain import id_links, kept_links, resident, scheduler, service, stored
from tests.chain.lake import rows, write
from tests.chain.test_network_schedule import CHAINS, EVERY, P, _stamp
from tests.chain.test_stored_network import Counting


def _lake_links(engine: DuckDBEngine, code: str, month: str) -> id_links.IdLinks:
    """The build's links as read from the lake (the path before the kept arrays)."""
    table = stored.stored_id_links(engine, engine.lake_root, code, month, _stamp(engine, month, code))
    assert table is not None
    found = id_links.from_table(table)
    assert found is not None
    return found


def _request(engine: DuckDBEngine, month: str, params: object = P) -> tuple[resident.Ranked, list[str]]:
    resident.clear()  # nothing held: a cold ranking unless a ranking was kept under the key
    counting = Counting(engine)
    return service.ranked_network(counting, "new_display", month, params), counting.runs  # type: ignore[arg-type]


@pytest.fixture
def built(tmp_path: Path, session_factory: sessionmaker[Session]) -> Lake:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    resident.clear()
    assert list(scheduler.build_due(session_factory, lake.root, "test") or {}) == EVERY
    return lake


def test_an_older_month_is_ranked_from_the_kept_arrays_as_from_the_lake(built: Lake) -> None:
    """The build keeps every month's links (each chain), not only the latest's. A month it did not rank is
    ranked cold from them — one stamp statement, no links read from the lake — to the same ranking, bit for bit
    and Decimal for Decimal, as from the lake's rows; so is the latest month under other ranking parameters."""
    kept = sorted((store_dir(built.root) / kept_links.NAME).glob("*.arrow"))
    assert len(kept) == len(EVERY) * len(CHAINS)
    engine = DuckDBEngine(built.root)
    try:
        for month in EVERY[:-1]:
            ranked, runs = _request(engine, month)
            assert runs == ["chain_network_stamp"]
            from_lake = service.rank_id_links(_lake_links(engine, "new_display", month), P)
            assert ranked == from_lake and repr(ranked) == repr(from_lake)
        small = dataclasses.replace(P, betweenness_max_nodes=1)  # another ranking: not the kept one
        ranked, runs = _request(engine, EVERY[-1], small)
        assert runs == ["chain_network_stamp"] and ranked.betweenness is None
        assert ranked == service.rank_id_links(_lake_links(engine, "new_display", EVERY[-1]), small)
        assert ranked.links > 0
    finally:
        resident.clear()
        engine.close()


def test_kept_arrays_are_the_lake_rows_links(built: Lake) -> None:
    engine = DuckDBEngine(built.root)
    try:
        month = "2024-02"
        loaded = kept_links.load(shared_results(built.root), "new_display", month, _stamp(engine, month))
        lake = _lake_links(engine, "new_display", month)
        assert loaded is not None and loaded.names.equals(lake.names)
        for a, b in ((loaded.payer, lake.payer), (loaded.payee, lake.payee), (loaded.fen, lake.fen)):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    finally:
        engine.close()


def test_an_unreadable_kept_file_falls_back_to_the_lake(built: Lake) -> None:
    engine = DuckDBEngine(built.root)
    try:
        month = "2024-02"
        key = kept_links.store_key("new_display", month, _stamp(engine, month))
        path = shared_results(built.root)._file(key)[0]
        assert path.exists()
        path.write_bytes(b"not arrow")
        ranked, runs = _request(engine, month)
        assert runs == ["chain_network_stamp", "chain_network_stored_ids"]
        assert ranked == service.rank_id_links(_lake_links(engine, "new_display", month), P)
    finally:
        resident.clear()
        engine.close()


def _links() -> id_links.IdLinks:
    names = pa.array(["A1", "B2", "C3", "D4"])
    payer, payee = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 2, 3, 0])
    return id_links.IdLinks(names, payer, payee, np.array([100, 250, 1, 2**40, 7]))


def _altered(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    lists = pa.ListArray.from_arrays(pa.array([0, len(values)], pa.int32()), values)
    return table.set_column(table.schema.get_field_index(column), column, lists).replace_schema_metadata(
        table.schema.metadata
    )


def test_a_file_not_of_that_builds_shape_is_not_used() -> None:
    key = kept_links.store_key("new_display", "2024-02", dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    table = kept_links.to_table(key, _links())
    back = kept_links.from_table(key, table)
    assert back is not None and back.names.to_pylist() == ["A1", "B2", "C3", "D4"]
    assert back.fen.tolist() == [100, 250, 1, 2**40, 7] and back.payee.tolist() == [1, 2, 2, 3, 0]
    other = kept_links.store_key("auto", "2024-02", dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    assert kept_links.from_table(other, table) is None  # another chain's file under this name
    later = kept_links.store_key("new_display", "2024-02", dt.datetime(2024, 3, 2, tzinfo=dt.UTC))
    assert kept_links.from_table(later, table) is None  # another build's
    bad = {
        "names out of USCC order": _altered(table, "names", pa.array(["A1", "C3", "B2", "D4"])),
        "a name twice": _altered(table, "names", pa.array(["A1", "B2", "B2", "D4"])),
        "an id past the names": _altered(table, "payee_id", pa.array([1, 2, 2, 4, 0], pa.int32())),
        "a negative id": _altered(table, "payer_id", pa.array([0, 0, 1, 2, -1], pa.int32())),
        "a name no link has": _altered(table, "names", pa.array(["A1", "B2", "C3", "D4", "E5"])),
        "fewer weights than links": _altered(table, "fen", pa.array([100, 250, 1, 7], pa.int64())),
    }
    for why, altered in bad.items():
        assert kept_links.from_table(key, altered) is None, why
    empty = kept_links.to_table(key, id_links.from_names({}))
    found = kept_links.from_table(key, empty)
    assert found is not None and len(found.names) == 0 and len(found.payer) == 0
