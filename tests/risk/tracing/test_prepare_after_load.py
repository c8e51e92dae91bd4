"""A load through `jinyu ingest` ends by building and keeping the resident index and context of the new data
version: the next process maps and reads them back without building, and answers as a fresh build does;
`--no-prepare` leaves them to the server; a failing preparation warns and the load stands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jinyu.analytics import DuckDBEngine, Lake, flowfiles, flowindex
from jinyu.analytics.flowindex import ARRAYS, FlowIndexes, build
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.migrate import upgrade
from jinyu.risk.tracing import service
from jinyu.risk.tracing.service import kept, prepare
from jinyu.risk.tracing.service.base import RESIDENT_SINGLE_METHOD, SINGLE_METHOD
from jinyu.risk.tracing.service.context import ResidentContexts

from .lake import golden_rows, write
from .test_golden import EXPECTED, _by_kind
from .test_kept import _check

NEW_BANK = "org_code,name,level,parent_code,district_code,uscc\nB9,九行,head_office,,500101,\n"


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir whose lake holds the golden region (written as loads write it) and nothing kept yet."""
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    upgrade(get_settings())
    root = get_settings().lake_dir
    write(Lake(root), golden_rows())
    yield root
    get_settings.cache_clear()


def _ingest_new_bank(tmp_path: Path, *flags: str) -> str:
    f = tmp_path / "banks.csv"
    f.write_text(NEW_BANK, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "banks", str(f), "--no-check", "--no-progress", *flags])
    assert result.exit_code == 0, result.output
    return "".join(result.output.split())  # the console wraps long lines


def _version(root: Path) -> str:
    return service.data_version(root, service.base.LISTED).fingerprint


def test_a_load_keeps_both_for_the_new_version_and_the_next_process_builds_nothing(
    lake: Path, tmp_path: Path
) -> None:
    before = _version(lake)
    output = _ingest_new_bank(tmp_path)
    assert _version(lake) != before  # the load changed what tracing reads
    assert "转账索引/transferindex:已构建/built" in output
    assert "核查上下文/tracingcontext:已构建/built" in output
    assert flowindex.is_kept(lake) and kept.is_kept(lake, _version(lake))
    # The next process: both served at once from the kept files, no build thread started.
    flows, contexts = FlowIndexes(), ResidentContexts()
    index, context = flows.get(lake), contexts.get(lake)
    assert index is not None and context is not None
    assert flows._thread is None and contexts._thread is None
    assert isinstance(getattr(index, ARRAYS[0]), np.memmap)  # mapped, not built
    fresh = build(lake)
    for name in ARRAYS:
        assert np.array_equal(getattr(index, name), getattr(fresh, name)), name
    assert "B9" in context.t.banks  # the context of the new version: the loaded bank is in it
    engine = DuckDBEngine(lake)
    try:
        for loan_id, mode, policy in sorted(EXPECTED)[:4]:
            prepared = _check(lake, engine, flows, contexts, loan_id, mode, policy)
            over_lake = _check(lake, engine, _Unready(), _Unready(), loan_id, mode, policy)  # type: ignore[arg-type]
            assert prepared.basis.method == RESIDENT_SINGLE_METHOD
            assert over_lake.basis.method == SINGLE_METHOD
            assert prepared.trace.nodes == over_lake.trace.nodes
            assert prepared.trace.edges == over_lake.trace.edges
            assert prepared.related == over_lake.related and prepared.shells == over_lake.shells
            assert prepared.refunds == over_lake.refunds
            assert _by_kind(prepared.trace.nodes) == EXPECTED[(loan_id, mode, policy)]
    finally:
        engine.close()


class _Unready:
    """Holders whose build never finishes: every check traces over the lake (the independent answer)."""

    def get(self, *_args: object) -> None:
        return None


def test_no_prepare_leaves_them_to_the_server(lake: Path, tmp_path: Path) -> None:
    output = _ingest_new_bank(tmp_path, "--no-prepare")
    assert "transferindex" not in output
    assert not flowfiles.files_dir(lake).exists()
    assert not flowfiles.files_dir(lake, kept.KIND).exists()


def test_a_failing_preparation_warns_and_the_load_stands(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(flowindex, "build", broken)
    before = _version(lake)
    output = _ingest_new_bank(tmp_path)  # exit code 0: the load stands
    assert _version(lake) != before
    assert "转账索引/transferindex:失败/failed" in output
    assert not flowindex.is_kept(lake)
    assert kept.is_kept(lake, _version(lake))  # the context is independent of the index: still kept


def test_only_loads_of_what_tracing_reads_on_a_lake_with_transfers_need_it(
    lake: Path, tmp_path: Path
) -> None:
    assert prepare.needed(lake, ["banks"]) and prepare.needed(lake, ["transfers", "claims"])
    assert not prepare.needed(lake, ["claims"])
    assert not prepare.needed(tmp_path / "empty-lake", ["transfers"])
