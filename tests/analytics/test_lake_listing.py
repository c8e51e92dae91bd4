"""`listing.lake_listing` keeps a lake's listing while the lake's change marker stays as it was, and every
write of data files (a load, a staged load settled, a discarded load, recovery) replaces the marker: the
listing after a write shows it. Expected files are named by hand, not by the function under test."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from jinyu.analytics import Lake, layout, listing

PAST = 1_600_000_000_000_000_000  # 2020: a marker this old is trusted (older than the settle time)


def _table() -> pa.Table:
    return pa.table({"k": ["a", "b"], "v": [1, 2]})


def _age_marker(lake: Lake) -> None:
    os.utime(lake.root / layout.CHANGED_MARKER, ns=(PAST, PAST))


def _names(found: object) -> dict[str, list[str]]:
    assert isinstance(found, Mapping)
    return {d: [rel for rel, _, _ in files] for d, files in found.items()}


def test_a_write_replaces_the_marker_and_the_next_listing_shows_it(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.append("d", _table(), "L1", partition_by=None, sort_by=["k"])
    marker = lake.root / layout.CHANGED_MARKER
    assert marker.is_file()
    _age_marker(lake)
    first = listing.lake_listing(lake.root, ["d", "e"])
    assert _names(first) == {"d": ["d/part-L1.parquet"], "e": []}
    assert listing.lake_listing(lake.root, ["d", "e"]) is first  # unchanged marker: the same listing
    before = os.stat(marker)
    lake.append("e", _table(), "L2", partition_by=None, sort_by=["k"])
    after = os.stat(marker)
    assert (after.st_mtime_ns, after.st_ino) != (before.st_mtime_ns, before.st_ino)
    assert _names(listing.lake_listing(lake.root, ["d", "e"])) == {
        "d": ["d/part-L1.parquet"],
        "e": ["e/part-L2.parquet"],
    }
    _age_marker(lake)
    lake.discard_load("e", "L2")
    assert _names(listing.lake_listing(lake.root, ["d", "e"])) == {"d": ["d/part-L1.parquet"], "e": []}


def test_a_staged_load_is_listed_once_settled(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.append("d", _table(), "L1", partition_by=None, sort_by=["k"])
    _age_marker(lake)
    pending = lake.begin_load("L2", ["d"])
    lake.append("d", _table(), "L2", partition_by=None, sort_by=["k"], staged=pending)
    assert _names(listing.lake_listing(lake.root, ["d"])) == {"d": ["d/part-L1.parquet"]}
    pending.settle(keep=True)
    assert _names(listing.lake_listing(lake.root, ["d"])) == {"d": ["d/part-L1.parquet", "d/part-L2.parquet"]}


def test_a_lake_without_a_marker_is_listed_each_time_until_recovery_marks_it(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.append("d", _table(), "L1", partition_by=None, sort_by=["k"])
    (lake.root / layout.CHANGED_MARKER).unlink()  # as a lake written before the marker existed
    first = listing.lake_listing(lake.root, ["d"])
    # A file landed by a writer that does not mark (older code): seen, because nothing is kept without a marker.
    (lake.root / "d" / "part-X.parquet").write_bytes((lake.root / "d" / "part-L1.parquet").read_bytes())
    assert _names(listing.lake_listing(lake.root, ["d"])) == {"d": ["d/part-L1.parquet", "d/part-X.parquet"]}
    assert listing.lake_listing(lake.root, ["d"]) is not first
    lake.recover(lambda dataset, load_id: False)  # start-up's recovery leaves a marker
    assert (lake.root / layout.CHANGED_MARKER).is_file()
