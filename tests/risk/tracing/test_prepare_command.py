"""`jinyu prepare`: what to run when the log says kept files were refused (spoiled, another format). A refused
kept index or context is rebuilt and kept in the foreground, not left to a server that keeps it only if it
lives until its background build ends; files that pass their checks are left alone. Before, a spoiled file
still counted as kept (its directory existed), so neither this nor a load's preparation rebuilt it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jinyu.analytics import Lake, flowfiles, flowindex
from jinyu.analytics.flowindex import ARRAYS, FlowIndexes, build
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.migrate import upgrade
from jinyu.risk.tracing.service import kept
from jinyu.risk.tracing.service.base import LISTED, data_version

from .lake import golden_rows, write


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    upgrade(get_settings())
    root = get_settings().lake_dir
    write(Lake(root), golden_rows())
    yield root
    get_settings.cache_clear()


def _prepare() -> str:
    result = CliRunner().invoke(app, ["prepare"])
    assert result.exit_code == 0, result.output
    return "".join(result.output.split())


def _only(where: Path) -> Path:
    (one,) = [p for p in where.iterdir() if not p.name.startswith(".")]
    return one


def _flip(path: Path) -> None:
    body = bytearray(path.read_bytes())
    body[-1] ^= 0x01  # same length: only a checksum tells
    path.write_bytes(bytes(body))


def test_prepare_rebuilds_and_keeps_refused_files_and_leaves_sound_ones(
    lake: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert "transferindex:已构建/built；核查上下文/tracingcontext:已构建/built" in _prepare()
    index_dir = _only(flowfiles.files_dir(lake))
    _flip(index_dir / f"{ARRAYS[0]}.npy")
    _flip(_only(flowfiles.files_dir(lake, kept.KIND)) / kept.FILE)
    with caplog.at_level(logging.WARNING):
        out = _prepare()
    assert (
        "transferindex:已构建/built；核查上下文/tracingcontext:已构建/built" in out
    )  # both refused, both rebuilt
    refusals = [r.getMessage() for r in caplog.records if "kept files unusable" in r.getMessage()]
    assert len(refusals) == 2 and all("jinyu prepare" in m for m in refusals)  # the log names what to run
    # Kept, and sound: a new process maps the index (no build) and it equals a fresh build of the lake.
    assert flowindex.is_kept(lake) and kept.is_kept(lake, data_version(lake, LISTED).fingerprint)
    mapped = FlowIndexes().get(lake)
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)
    fresh = build(lake)
    for name in ARRAYS:
        assert np.array_equal(getattr(mapped, name), getattr(fresh, name)), name
    assert "transferindex:已有/alreadykept；核查上下文/tracingcontext:已有/alreadykept" in _prepare()


def test_prepare_on_an_empty_lake_says_to_load_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["prepare"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "jinyu ingest-region" in result.output
