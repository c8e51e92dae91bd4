"""Answers kept by a named version of their input (`jinyu.analytics.results.stamped`): a later version's write
removes the same question's earlier files, an earlier one's write never removes a later one, another question
is left alone, and answers kept on disk only are not held in memory."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from jinyu.analytics import ResultCache
from jinyu.analytics.results import stamped


def _table(value: int) -> pa.Table:
    return pa.table({"v": pa.array([value], pa.int64())})


def test_a_later_stamp_replaces_an_earlier_one_never_the_reverse(tmp_path: Path) -> None:
    store = tmp_path / "lake.results"
    cache = ResultCache(tmp_path / "lake", store=store)
    question = {"chain_code": "new_display", "as_of_month": "2024-03"}
    jan, feb = (
        stamped("q", question, "20240101T000000000000Z"),
        stamped("q", question, "20240201T000000000000Z"),
    )
    other = stamped("q", {**question, "chain_code": "auto"}, "20240101T000000000000Z")
    cache.put(jan, _table(1), in_memory=False)
    cache.put(other, _table(3), in_memory=False)
    assert cache.held() == []  # on disk only
    cache.put(feb, _table(2), in_memory=False)
    files = sorted(f.name for f in (store / "q").glob("*.arrow"))
    assert len(files) == 2 and any("20240201" in f for f in files)  # January's answer gone, auto's kept
    assert cache.get(jan, in_memory=False) is None
    cache.put(jan, _table(1), in_memory=False)  # a slow writer of the earlier version
    fresh = ResultCache(tmp_path / "lake", store=store)  # another process
    assert fresh.get(feb, in_memory=False) == _table(2)  # the later one stayed
    assert fresh.get(jan, in_memory=False) == _table(1) and fresh.get(other) == _table(3)
    assert fresh.held() == [other]  # read with in_memory (the default): held


@pytest.mark.parametrize("stamp", ["", "2024/01", "a b", "../x"])
def test_a_stamp_must_be_filename_safe(stamp: str) -> None:
    with pytest.raises(ValueError, match="stamp"):
        stamped("q", {}, stamp)
