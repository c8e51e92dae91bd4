"""A load through `jinyu ingest` ends by computing the chain page's answers of the last twelve months and keeping
them beside the lake (`jinyu.load_prepare.prepare_pages`): the next process's first visitor of a window inside
them runs no statement for the links, flows, loans, coverage or member lists, and reads what the engine answers.
A load of a dataset the page does not read prepares nothing; `--no-prepare` leaves them to the first visitor; a
failing preparation warns and the load stands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from jinyu import load_prepare
from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.analytics.results import store_dir
from jinyu.chain import reads, resident, service, stored
from jinyu.chain.definitions import load as load_definitions
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core.runtime import sessionmaker_for
from jinyu.migrate import upgrade
from jinyu.web import warm
from tests.chain.lake import rows, write
from tests.chain.test_stored_network import Counting

NEW_BANK = "org_code,name,level,parent_code,district_code,uscc\nB9,九行,head_office,,500101,\n"
WINDOW = {"chain_code": "new_display", "from_month": "2023-10", "to_month": "2024-03"}


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data dir whose lake holds the hand-built chain region (written as loads write it), nothing kept."""
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    upgrade(get_settings())
    root = get_settings().lake_dir
    write(Lake(root), rows())
    shared_results(root).clear()
    resident.clear()
    yield root
    shared_results(root).clear()
    get_settings.cache_clear()


def _ingest(tmp_path: Path, dataset: str, body: str, *flags: str) -> str:
    f = tmp_path / f"{dataset}.csv"
    f.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", dataset, str(f), "--no-check", "--no-progress", *flags])
    assert result.exit_code == 0, result.output
    return "".join(result.output.split())  # the console wraps long lines


def _as_a_new_process(root: Path) -> None:
    """What a restarted server holds: nothing in memory, the files beside the lake."""
    shared_results(root).clear(keep_store=True)
    resident.clear()


def test_a_load_keeps_the_chain_pages_answers_and_the_next_process_runs_no_statement_for_them(
    lake: Path, tmp_path: Path
) -> None:
    output = _ingest(tmp_path, "banks", NEW_BANK)
    assert "preparingthechainpages'answersofthelasttwelvemonths" in output
    assert "2023-04..2024-03" in output  # twelve months ending at the last month with transfers
    assert any(store_dir(lake).rglob("*")), "nothing kept beside the lake"
    _as_a_new_process(lake)
    engine = DuckDBEngine(lake)
    try:
        counting = Counting(engine)
        page = reads.for_page(counting, "new_display", "2024-03", None, shared_results(lake))  # type: ignore[arg-type]
        with sessionmaker_for()() as session:
            overrides = service.segment_overrides(session, "new_display")
        flows = {**WINDOW, "segment_overrides": overrides}
        # Every answer equals the engine's own, and none of them was computed in this "process".
        assert page.run(reads.LINKS, **WINDOW).to_pylist() == engine.run(reads.LINKS, **WINDOW).to_pylist()
        assert page.run(reads.FLOWS, **flows).to_pylist() == engine.run(reads.FLOWS, **flows).to_pylist()
        for name in (reads.LOANS, reads.COVERAGE):
            assert page.run(name, **flows).equals(engine.run(name, **flows))
        assert service.member_rows(page, "new_display", "") == service.member_rows(engine, "new_display", "")
        service.member_rows(page, "new_display", overrides)
        p = load_definitions().parameters
        assert stored.stored_links(page, "new_display", "2024-01", p) == stored.stored_links(
            engine, "new_display", "2024-01", p
        )
        assert counting.runs == []
    finally:
        engine.close()


def test_a_load_the_page_does_not_read_prepares_nothing_and_no_prepare_leaves_them(
    lake: Path, tmp_path: Path
) -> None:
    assert load_prepare.prepare_pages(lake, ["patents"], lambda _line: None) is None
    output = _ingest(tmp_path, "banks", NEW_BANK, "--no-prepare")
    assert "chainpages" not in output
    assert not store_dir(lake).exists() or not any(p.is_file() for p in store_dir(lake).rglob("*"))


def test_a_failing_preparation_warns_and_the_load_stands(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_prepare.chain_schedule, "warm_pages", broken)
    output = _ingest(tmp_path, "banks", NEW_BANK)
    assert "chainpages'answerswerenotprepared" in output and "diskfull" in output
    loaded = [pq.read_table(f).column("org_code").to_pylist() for f in Lake(lake).files("banks")]
    assert any("B9" in codes for codes in loaded)  # the load stands


def test_a_start_holds_the_kept_answers_and_computes_nothing_when_none_are_kept(
    lake: Path, tmp_path: Path
) -> None:
    factory = sessionmaker_for()
    assert warm.hold_chain_answers(factory, lake) == []  # nothing kept: nothing computed at start
    assert not store_dir(lake).exists() or not any(p.is_file() for p in store_dir(lake).rglob("*"))
    assert shared_results(lake).held() == []
    _ingest(tmp_path, "banks", NEW_BANK)
    _as_a_new_process(lake)
    kept_files = sorted((p, p.stat().st_mtime_ns) for p in store_dir(lake).rglob("*") if p.is_file())
    months = warm.hold_chain_answers(factory, lake)
    assert months[0] == "2023-04" and months[-1] == "2024-03"
    assert len(shared_results(lake).held()) >= len(kept_files) // 2  # read into memory...
    now = sorted((p, p.stat().st_mtime_ns) for p in store_dir(lake).rglob("*") if p.is_file())
    assert now == kept_files  # ...none computed (none written again)
    engine = DuckDBEngine(lake)
    try:
        counting = Counting(engine)
        page = reads.for_page(counting, "new_display", "2024-03", None, shared_results(lake))  # type: ignore[arg-type]
        store_dir(lake).rename(tmp_path / "moved")  # only memory can answer now
        assert page.run(reads.LINKS, **WINDOW).to_pylist() == engine.run(reads.LINKS, **WINDOW).to_pylist()
        assert counting.runs == []
    finally:
        engine.close()
