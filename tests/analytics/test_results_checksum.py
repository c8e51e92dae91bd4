"""Kept answers carry a sha256 of their values (`jinyu.analytics.results`): read back unchanged they equal the
answer computed (schema, metadata and values); a file whose bytes changed on disk, or one without a digest, is
not served but removed, so the answer is computed again."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from jinyu.analytics import ResultCache
from jinyu.analytics.results import stamped

MARK = "企业" + "A" * 64  # a run of bytes that only a value holds, to spoil on disk


def _answer() -> pa.Table:
    table = pa.table(
        {
            "uscc": pa.array(["91350200MA2XYZ0001", None, MARK], pa.string()),
            "amount": pa.array([Decimal("12.34"), Decimal("-0.01"), None], pa.decimal128(18, 2)),
            "rank": pa.array([0.5, 0.25, 0.125], pa.float64()),
        }
    ).replace_schema_metadata({b"source": b"chain"})
    # two chunks, the first a slice: the layout a query's answer can have
    return pa.concat_tables([table.slice(0, 1), table.slice(1)])


def _cache(tmp_path: Path) -> tuple[ResultCache, Path]:
    store = tmp_path / "lake.results"
    return ResultCache(tmp_path / "lake", store=store), store


def _only_file(store: Path) -> Path:
    (path,) = store.glob("q/*.arrow")
    return path


def test_an_answer_read_back_equals_the_one_kept(tmp_path: Path) -> None:
    cache, store = _cache(tmp_path)
    key = stamped("q", {"chain_code": "auto"}, "20240101T000000000000Z")
    cache.put(key, _answer(), in_memory=False)
    back = ResultCache(tmp_path / "lake", store=store).get(key)
    assert back is not None
    assert back.equals(_answer(), check_metadata=True)  # the digest is not part of the answer


def test_a_value_changed_on_disk_is_not_served(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache, store = _cache(tmp_path)
    key = stamped("q", {"chain_code": "auto"}, "20240101T000000000000Z")
    cache.put(key, _answer(), in_memory=False)
    path = _only_file(store)
    data = path.read_bytes()
    at = data.index(MARK.encode())
    path.write_bytes(data[: at + 10] + b"B" + data[at + 11 :])
    with pa.memory_map(str(path)) as source:  # still a readable Arrow file, with one value changed
        spoiled = ipc.open_file(source).read_all()
    assert spoiled.column("uscc")[2].as_py() != MARK
    with caplog.at_level(logging.WARNING, logger="jinyu.analytics.results"):
        assert ResultCache(tmp_path / "lake", store=store).get(key) is None
    assert "checksum" in caplog.text
    assert not path.exists()  # removed: the next put writes it afresh


def test_a_file_without_a_digest_is_computed_again(tmp_path: Path) -> None:
    cache, store = _cache(tmp_path)
    key = stamped("q", {"chain_code": "auto"}, "20240101T000000000000Z")
    cache.put(key, _answer(), in_memory=False)
    path = _only_file(store)
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, _answer().schema) as writer:
        writer.write_table(_answer())  # as an older version wrote it
    assert ResultCache(tmp_path / "lake", store=store).get(key) is None


def test_a_torn_file_is_computed_again(tmp_path: Path) -> None:
    cache, store = _cache(tmp_path)
    key = stamped("q", {"chain_code": "auto"}, "20240101T000000000000Z")
    cache.put(key, _answer(), in_memory=False)
    path = _only_file(store)
    path.write_bytes(path.read_bytes()[:100])
    assert ResultCache(tmp_path / "lake", store=store).get(key) is None
