"""The scheduled monthly network build (`jinyu.chain.scheduler`): after a load the due months are built once,
audited; nothing without new files; a worker that finds the lock held skips; the server starts it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.analytics.results import store_dir
from jinyu.app import create_app
from jinyu.audit.models import AuditEntry
from jinyu.chain import definitions, network, reads, resident, scheduler, service, stored
from jinyu.config import load_settings
from tests.chain.lake import U, rows, write
from tests.chain.test_stored_network import Counting, _late_payment

D = Decimal
P = definitions.load().parameters
CHAINS = [c.code for c in definitions.load().chains]
EVERY = ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]  # the months with transfers


def _builds(session_factory: sessionmaker[Session]) -> list[dict[str, object]]:
    with session_factory() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "chain.network.build").order_by(AuditEntry.seq)
        ).all()
        return [json.loads(e.detail) for e in entries]


def _built_months(lake: Lake) -> list[str]:
    engine = DuckDBEngine(lake.root)
    try:
        return sorted(str(r["as_of_month"]) for r in engine.run(stored.BUILDS.name).to_pylist())
    finally:
        engine.close()


def test_a_load_makes_the_due_months_built_once_and_audited(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    resident.clear()
    schedule = scheduler.NetworkScheduler(session_factory, lake.root, interval=3600)
    assert schedule.check_once() == {m: schedule.built[m] for m in EVERY}
    assert _built_months(lake) == EVERY
    assert schedule.check_once() is None  # no new file: not even asked what is due
    # The latest stored month of every chain is held: a request for it reads no links.
    assert schedule.warmed == {c.code: "2024-03" for c in definitions.load().chains}
    engine = DuckDBEngine(lake.root)
    try:
        counting = Counting(engine)
        held = service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert counting.runs == ["chain_network_stamp"] and held.links > 0
        # The chain page's two transfer scans of the last twelve months are held too: the first visitor of a
        # window inside them runs neither, and reads what the engine answers.
        assert schedule.pages_warmed[0] == "2023-04" and schedule.pages_warmed[-1] == "2024-03"
        page = reads.for_page(counting, "new_display", "2024-03", None, shared_results(lake.root))  # type: ignore[arg-type]
        window = {"chain_code": "new_display", "from_month": "2023-10", "to_month": "2024-03"}
        with session_factory() as session:
            overrides = service.segment_overrides(session, "new_display")
        flows = {**window, "segment_overrides": overrides}
        assert page.run(reads.LINKS, **window).to_pylist() == engine.run(reads.LINKS, **window).to_pylist()
        assert page.run(reads.FLOWS, **flows).to_pylist() == engine.run(reads.FLOWS, **flows).to_pylist()
        service.member_rows(page, "new_display", overrides)  # window-free statements and stored months too
        assert service.member_rows(page, "new_display", "") == service.member_rows(engine, "new_display", "")
        # Loans and credit coverage of the window too (coverage counted from the member list and borrowers).
        for name in (reads.LOANS, reads.COVERAGE):
            assert page.run(name, **flows).equals(engine.run(name, **flows))
        assert stored.current_stamp(page, "new_display", "2024-01", P) is not None
        assert stored.stored_links(page, "new_display", "2024-01", P) == stored.stored_links(
            engine, "new_display", "2024-01", P
        )
        assert counting.runs == ["chain_network_stamp"]
    finally:
        engine.close()
    # A late December payment arrives: the months whose window holds it and that have transfers are rebuilt.
    _late_payment(lake, "L-late", "2023-12-28T10:00:00")
    assert list(schedule.check_once() or {}) == ["2023-12", "2024-01", "2024-02", "2024-03"]
    assert schedule.check_once() is None
    audits = _builds(session_factory)
    assert [a["months"] for a in audits] == [EVERY, ["2023-12", "2024-01", "2024-02", "2024-03"]]
    assert all(a["trigger"] == "schedule" and a["due"] is True for a in audits)


def test_a_worker_that_finds_the_build_lock_held_skips_and_tries_again(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    schedule = scheduler.NetworkScheduler(session_factory, lake.root, interval=3600)
    with (lake.root / scheduler.LOCK_FILE).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert schedule.check_once() is None and not lake.files(stored.DATASET)
    assert list(schedule.check_once() or {}) == EVERY  # the next tick builds them
    assert _builds(session_factory)[-1]["months"] == EVERY
    # Another worker sees the new stored files: nothing is due for it, and it warms its own memory.
    other = scheduler.NetworkScheduler(session_factory, lake.root, interval=3600)
    assert other.check_once() == {} and other.warmed["new_display"] == "2024-03"
    assert other.check_once() is None and len(_builds(session_factory)) == 1  # an empty build is not audited


def test_the_server_runs_the_schedule_and_an_empty_lake_builds_nothing(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", chain_network_due_seconds=1)
    app = create_app(settings, factory=session_factory)
    with TestClient(app):
        schedule = app.state.chain_network_schedule
        assert isinstance(schedule, scheduler.NetworkScheduler) and schedule.built == {}
        write(Lake(settings.lake_dir), rows())  # a load while the server runs
        deadline = time.monotonic() + 60
        while sorted(schedule.built) != EVERY and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(schedule.built) == EVERY
    assert _built_months(Lake(settings.lake_dir)) == EVERY
    off = create_app(load_settings(data_dir=tmp_path / "off"), factory=session_factory)
    with TestClient(off):
        assert off.state.chain_network_schedule is None


def test_the_build_holds_the_latest_months_ranking_before_it_is_appended(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    """The scheduled build ranks the latest month from its own links and holds it before the build is
    appended: at that moment no reader sees the build yet, and afterwards the first request for the month
    reads only its stamp, no links, and gets the ranking a cold ranking of the stored links gives."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    resident.clear()
    seen_at_hold: list[object] = []
    hook = scheduler.rank_before_append

    def watching(lake_dir, latest, *, hold=True):  # type: ignore[no-untyped-def]
        inner = hook(lake_dir, latest, hold=hold)

        def run(month, links, built_at):  # type: ignore[no-untyped-def]
            engine = DuckDBEngine(lake.root)
            try:  # what a request would see while the build is being ranked
                seen_at_hold.append((month, stored.current_stamp(engine, "new_display", month, P)))
            finally:
                engine.close()
            inner(month, links, built_at)

        return run

    scheduler.rank_before_append = watching  # type: ignore[assignment]
    try:
        assert list(scheduler.build_due(session_factory, lake.root, "test") or {}) == EVERY
    finally:
        scheduler.rank_before_append = hook  # type: ignore[assignment]
    assert seen_at_hold == [(m, None) for m in EVERY]  # each month's hook ran before its build was visible
    engine = DuckDBEngine(lake.root)
    try:
        counting = Counting(engine)
        codes = [c.code for c in definitions.load().chains]
        held = {code: service.ranked_network(counting, code, "2024-03", P) for code in codes}  # type: ignore[arg-type]
        assert counting.runs == ["chain_network_stamp"] * len(codes)  # no links read: held since the build
        older = service.resident_key("new_display", "2024-02", _stamp(engine, "2024-02"), P)
        assert resident.get(older) is None  # only the latest month built is ranked
        assert held == _cold(engine, codes) and held["new_display"].links > 0
    finally:
        resident.clear()
        engine.close()


def _cold(engine: DuckDBEngine, codes: list[str], month: str = "2024-03") -> dict[str, resident.Ranked]:
    """Each chain's ranking computed here from its stored links (no memory, no kept file)."""
    out = {}
    for code in codes:
        links = stored.stored_links(engine, code, month, P)
        assert links is not None
        out[code] = service.rank_links(links, P)
    return out


def _no_graph(*args: object, **kwargs: object) -> object:
    raise AssertionError("a graph was built")


def test_another_worker_reads_the_ranking_the_build_kept_no_links_read_no_graph_built(
    tmp_path: Path, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build keeps each chain's ranking of the latest month beside the lake before appending it. Another
    worker (here: this process with its memory emptied, as a restarted one) answers the first request for the
    month, and its warm-up, from that file: one stamp statement per chain, no links read, no graph built —
    and the answer is exactly (every float bit, every decimal's text) the cold ranking of the stored links."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    resident.clear()
    assert list(scheduler.build_due(session_factory, lake.root, "test") or {}) == EVERY
    kept = sorted((store_dir(lake.root) / resident.RANKING).glob("*.arrow"))
    codes = [c.code for c in definitions.load().chains]
    assert len(kept) == len(codes)  # one file per chain, of the latest month only
    resident.clear()  # another process: nothing held in memory
    shared_results(lake.root).clear(keep_store=True)
    engine = DuckDBEngine(lake.root)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(network, "rank_arrays", _no_graph)
            counting = Counting(engine)
            first = {code: service.ranked_network(counting, code, "2024-03", P) for code in codes}  # type: ignore[arg-type]
            assert counting.runs == ["chain_network_stamp"] * len(codes)
            resident.clear()
            assert scheduler.warm(lake.root) == {
                code: "2024-03" for code in codes
            }  # the warm-up reads it too
        cold = _cold(engine, codes)
        assert first == cold and repr(first) == repr(cold)
        # By hand (tests/chain/lake.py): six links among m1, m2, c, d1, r1 and x; c paid m1 600,000 in 2024-03
        # and 50,000 five months before (x 0.8^5 = 0.32768: 16,384), and m2 400,000.
        assert (first["new_display"].links, first["new_display"].nodes) == (6, 6)
        by = {c.uscc: c for c in first["new_display"].centralities}
        assert (by[U["c"]].paid, by[U["m1"]].received, by[U["r1"]].paid, by[U["d1"]].received) == (
            D("1016384.00"), D("616384.00"), D("300000.00"), D("300000.00"),
        )  # fmt: skip
    finally:
        resident.clear()
        engine.close()


def test_a_stale_or_unreadable_kept_ranking_is_not_served_the_month_is_ranked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build without the hook (`stored.build_month` alone) has no kept ranking: the first request ranks it
    from the links and keeps it. A kept file that cannot be read, one of another chain copied under this
    one's name, one of other parameters, or the one of the build before a rebuild are not used: the ranking is
    computed from the stored links again, and equals the cold one."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    resident.clear()
    engine = DuckDBEngine(lake.root)
    store = shared_results(lake.root)
    try:
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        key = service.resident_key("new_display", "2024-03", _stamp(engine, "2024-03"), P)
        path = store._file(resident.store_key(key))[0]

        def request(params: object = P) -> tuple[resident.Ranked, list[str]]:
            resident.clear()
            counting = Counting(engine)
            ranked = service.ranked_network(counting, "new_display", "2024-03", params)  # type: ignore[arg-type]
            return ranked, counting.runs

        cold = _cold(engine, ["new_display"])["new_display"]
        assert not path.exists()
        assert request() == (cold, ["chain_network_stamp", "chain_network_stored_ids"])  # ranked, then kept
        assert path.exists() and request() == (cold, ["chain_network_stamp"])  # read from the file
        path.write_bytes(b"not arrow")
        assert request() == (cold, ["chain_network_stamp", "chain_network_stored_ids"])  # unreadable: ranked
        assert request() == (cold, ["chain_network_stamp"])  # and kept again
        other = service.resident_key("auto", "2024-03", _stamp(engine, "2024-03", "auto"), P)
        service.ranked_network(engine, "auto", "2024-03", P)
        store._file(resident.store_key(other))[0].replace(path)  # another chain's ranking under this name
        assert request() == (cold, ["chain_network_stamp", "chain_network_stored_ids"])
        # Other parameters are another question: not this file, whatever it holds.
        small = dataclasses.replace(P, betweenness_max_nodes=1)
        ranked, runs = request(small)
        assert runs == ["chain_network_stamp", "chain_network_stored_ids"]
        assert all(c.betweenness is None for c in ranked.centralities)
        assert all(c.betweenness is not None for c in cold.centralities)
        # A rebuild (a late payment) is a new stamp: the previous build's file is not read, and then removed.
        _late_payment(lake, "L-late-mar", "2024-03-20T10:00:00")
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        rebuilt, runs = request()
        assert runs == ["chain_network_stamp", "chain_network_stored_ids"]
        assert {c.uscc: c.paid for c in rebuilt.centralities}[U["r1"]] == D("300100.00")
        assert rebuilt == _cold(engine, ["new_display"])["new_display"] != cold
        assert not path.exists()  # the earlier build's ranking of the same question is gone
    finally:
        resident.clear()
        engine.close()


def _stamp(engine: DuckDBEngine, month: str, code: str = "new_display") -> dt.datetime:
    stamp = stored.current_stamp(engine, code, month, P)
    assert stamp is not None
    return stamp
