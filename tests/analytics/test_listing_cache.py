"""`listing.dataset_files` reads a directory again only when its modification time changed (or it changed too
recently to trust the time): a file renamed into place, or one replaced, is seen on the next listing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jinyu.analytics import layout, listing


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_bytes(b"x" * size)
    os.replace(tmp, path)  # as the lake lands every file


def _age(directory: Path) -> None:
    past = 1_600_000_000_000_000_000
    os.utime(directory, ns=(past, past))


def test_a_change_after_a_cached_read_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = layout.dataset_dir(tmp_path, "transfers")
    _write(base / "month=2026-01" / "a.parquet", 3)
    for d in (base, base / "month=2026-01"):
        _age(d)
    first = listing.dataset_files(tmp_path, "transfers")
    assert [(f, s) for f, s, _ in first] == [("transfers/month=2026-01/a.parquet", 3)]
    assert str(base / "month=2026-01") in listing._READ  # old enough to be kept
    _write(base / "month=2026-01" / "b.parquet", 5)  # a new file in a cached directory
    _write(base / "month=2026-02" / "c.parquet", 7)  # a new directory
    _write(base / "month=2026-01" / "a.parquet", 4)  # a replaced file
    names = [(f, s) for f, s, _ in listing.dataset_files(tmp_path, "transfers")]
    assert names == [
        ("transfers/month=2026-01/a.parquet", 4),
        ("transfers/month=2026-01/b.parquet", 5),
        ("transfers/month=2026-02/c.parquet", 7),
    ]


def test_a_recently_changed_directory_is_not_kept(tmp_path: Path) -> None:
    base = layout.dataset_dir(tmp_path, "loans")
    _write(base / "a.parquet", 1)
    listing.dataset_files(tmp_path, "loans")
    assert str(base) not in listing._READ  # changed just now: the same clock tick may hide a second change
