"""Loads in flight (`analytics/pending.py`): files hidden until kept, and a new load waiting for one publishing."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from jinyu.analytics import Lake
from jinyu.analytics.pending import wait_for_settled
from jinyu.core.errors import Conflict


def _table() -> pa.Table:
    return pa.table({"k": ["a", "b", "c"], "v": [1, 2, 3]})


def _in_other_thread(lake: Lake, load_id: str, dataset: str) -> tuple[threading.Event, threading.Thread]:
    """A load of `dataset` staged in another thread, kept (published) when the returned event is set."""
    staged, go = threading.Event(), threading.Event()

    def run() -> None:
        pending = lake.begin_load(load_id, [dataset])
        lake.append(dataset, _table(), load_id, partition_by=None, sort_by=["k"], staged=pending)
        staged.set()
        go.wait(10)
        pending.settle(keep=True)

    thread = threading.Thread(target=run)
    thread.start()
    assert staged.wait(10)
    return go, thread


def test_staged_files_are_invisible_until_kept_and_gone_if_not(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    kept = lake.begin_load("load1", ["d"])
    lake.append("d", _table(), "load1", partition_by=None, sort_by=["k"], staged=kept)
    assert lake.row_count("d") == 0 and len(list((tmp_path / "d").glob(".part-*.tmp"))) == 1
    kept.settle(keep=True)
    assert lake.row_count("d") == 3 and not list((tmp_path / "d").glob(".part-*.tmp"))

    dropped = lake.begin_load("load2", ["d"])
    lake.append("d", _table(), "load2", partition_by=None, sort_by=["k"], staged=dropped)
    dropped.settle(keep=False)
    assert lake.row_count("d") == 3 and not list((tmp_path / "d").glob(".part-*.tmp"))
    assert not list((tmp_path / "_pending").glob("*.json"))


def test_a_new_load_waits_for_another_threads_load_of_the_same_dataset(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    go, thread = _in_other_thread(lake, "busy", "d")
    try:
        wait_for_settled(tmp_path, ["other"], timeout=0.1)  # another dataset: no wait
        with pytest.raises(Conflict):
            wait_for_settled(tmp_path, ["d"], timeout=0.2)
    finally:
        go.set()
        thread.join(10)
    wait_for_settled(tmp_path, ["d"], timeout=0.2)  # published: nothing to wait for
    assert lake.row_count("d") == 3


def test_a_load_does_not_wait_for_its_own_thread(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    pending = lake.begin_load("mine", ["d"])
    wait_for_settled(tmp_path, ["d"], timeout=0.1)  # e.g. two loads in one uncommitted transaction
    pending.settle(keep=False)
