"""The monthly network build, scheduled: a background thread of each `jinyu serve` worker that builds the due
months of the stored network (`due_months`) when the lake's inputs change — a load of transfers, or of
`chain_members`, `accounts` or `enterprises` — so a new month's network exists without anyone running
`jinyu chain network-build --due`.

Every `interval` seconds it compares a fingerprint of the input files (count and newest modification time per
dataset, no file read) with the last one it acted on; only when it changed does it ask which months are due
(one `chain_network_builds` query) and build them, audited like the command (`chain.network.build`, detail
`trigger` `schedule`). The first check runs at start. Server workers share the lake, so a build holds an
exclusive lock file in the lake directory (`.chain-network-build.lock`, `flock`): a worker that finds it held
skips its turn and looks again at the next tick; the months it would have built are no longer due by then.
Off unless `JINYU_CHAIN_NETWORK_DUE_SECONDS` > 0 (`jinyu serve` sets 30 when it is not given: the check lists
files and reads none).

After each change every worker also **warms** the resident ranking (`jinyu.chain.resident`) of the latest
stored month of every chain (built with the current parameters), so the first request for it after a build is
answered from memory; the warm-up reads the ranking the build kept on disk (below) rather than reading the
links and building the graph. The stored network is part of the
fingerprint, so a worker that did not build (another one held the lock) warms once the build is written.
It also reads the chain page's two transfer scans (supply links, segment flows) of every chain for the last
`reads.WARM_MONTHS` months of transfers into the process's answers (`warm_pages`, kept per month and tied to
the lake's files), so the first visitor after a load of a window inside them runs neither; and the page's
statements that do not depend on the window (segment counts, member lists) and each month's stored network.
Those answers are also kept on disk beside the lake (`jinyu.analytics.results`): the other workers and the
next process read them instead of scanning, and a month's answer stays current until its own month's files
change, so a warm-up after a restart reads files only and one after a month's load reads that month.

The build itself ranks the latest month it builds from its own links **before** appending them
(`rank_before_append`, `stored.build_month`'s hook): in this worker there is no moment when the new build is
visible and its ranking is not held; until the append, requests read the previous build. It also keeps the
ranking in the results store beside the lake (`jinyu.chain.resident.keep`), so the other workers' warm-up —
and a restarted process, and any request before its warm-up — reads it (no links, no graph) rather than
ranking the build again. It keeps every month's links as arrays there too (`jinyu.chain.kept_links`): a month
ranked cold later (an older month, or after the ranking's parameters changed) reads them, not the lake.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.audit import service as audit
from jinyu.chain import definitions, due_months, id_links, kept_links, reads, resident, service, stored
from jinyu.chain.definitions import Parameters
from jinyu.core.auth import SYSTEM
from jinyu.core.db import transaction

log = logging.getLogger(__name__)
# What the chain page reads (its statements' datasets); a load of anything else leaves its answers current.
PAGE_INPUTS = frozenset({"transfers", "accounts", "banks", "chain_members", "enterprises", "loans"})
LOCK_FILE = ".chain-network-build.lock"
INPUTS = ("transfers", *due_months.SHARED, stored.DATASET)  # the last: another worker's build
Fingerprint = tuple[tuple[str, int, float], ...]


def fingerprint(lake: Lake) -> Fingerprint:
    """Per input dataset: how many files, and the newest one's modification time."""
    out = []
    for name in INPUTS:
        times = [p.stat().st_mtime for p in lake.files(name)]
        out.append((name, len(times), max(times, default=0.0)))
    return tuple(out)


def build_due(factory: sessionmaker[Session], lake_dir: Path, trigger: str) -> dict[str, int] | None:
    """Build the due months under the lake's build lock and audit them; the links written per month, or None
    when another process holds the lock."""
    lake_dir.mkdir(parents=True, exist_ok=True)
    with (lake_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        defs = definitions.load()
        stored.check_exact(defs.parameters)
        chains = [c.code for c in defs.chains]
        lake, engine = Lake(lake_dir), DuckDBEngine(lake_dir)
        try:
            months = due_months.due_months(engine, lake, defs.parameters)
            hold = rank_before_append(lake_dir, max(months)) if months else None
            written = {m: stored.build_month(engine, lake, m, chains, defs.parameters, hold) for m in months}
        finally:
            engine.close()
    if written:
        with transaction(factory) as session:
            audit.record(
                session, SYSTEM, action="chain.network.build", subject_type="dataset",
                subject_ids=[stored.DATASET],
                detail={"months": list(written), "links": written, "due": True, "trigger": trigger},
            )  # fmt: skip
    return written


def rank_before_append(
    lake_dir: Path, latest: str, *, hold: bool = True
) -> Callable[[str, pa.Table, dt.datetime], None]:
    """`stored.build_month`'s hook: rank every chain's network of the `latest` month being built from the
    build's own links, keep each ranking in the results store beside the lake (`resident.keep`: every worker
    and the next process read it instead of ranking) and, with `hold`, hold it in this process under that
    build's key (`jinyu.chain.resident`) — all before the build is appended, so no reader finds the new build
    without its ranking. Until the append, requests read the previous build (and its ranking): the answer
    swaps from one build to the next at once. Every month's links (not only the latest's) are also kept there
    as arrays (`jinyu.chain.kept_links`), so a month ranked cold later reads them instead of the lake."""
    p = definitions.load().parameters
    store = shared_results(lake_dir)

    def rank(month: str, links: pa.Table, built_at: dt.datetime) -> None:
        codes = {c.code for c in definitions.load().chains} | set(
            pc.unique(links.column("chain_code")).to_pylist()
        )
        for code in sorted(codes):
            found = id_links.from_table(links.filter(pc.equal(links.column("chain_code"), code)))
            if found is not None:  # every month's links as arrays: a later cold ranking reads no lake
                kept_links.keep(store, code, month, built_at, found)
            if month != latest:
                continue
            key = service.resident_key(code, month, built_at, p)
            ranked = _rank_built(found, links, code, p)
            resident.keep(store, key, ranked)
            if hold:
                resident.put(key, ranked)

    return rank


def _rank_built(found: id_links.IdLinks | None, links: pa.Table, code: str, p: Parameters) -> resident.Ranked:
    """One chain's ranking from the build's own links: from their node ids as arrays (`jinyu.chain.id_links`),
    or from the names should the ids not have the expected shape — the same ranking either way."""
    if found is not None:
        return service.rank_id_links(found, p)
    links = links.filter(pc.equal(links.column("chain_code"), code))
    columns = (links.column(n).to_pylist() for n in ("payer", "payee", "weight"))
    return service.rank_links({(a, b): w for a, b, w in zip(*columns, strict=True)}, p)


def warm(lake_dir: Path) -> dict[str, str]:
    """Rank (and so hold in this process) the latest stored month of every chain built with the current
    parameters; the month warmed per chain."""
    defs = definitions.load()
    p = defs.parameters
    engine = DuckDBEngine(lake_dir)
    try:
        months = [
            str(r["as_of_month"])
            for r in engine.run(stored.BUILDS.name).to_pylist()
            if r["decay"] == p.decay_per_month and r["window_months"] == p.network_window_months
        ]
        if not months:
            return {}
        latest = max(months)
        for chain in defs.chains:
            service.ranked_network(engine, chain.code, latest, p)
        return {c.code: latest for c in defs.chains}
    finally:
        engine.close()


def warm_pages(factory: sessionmaker[Session], lake_dir: Path) -> list[str]:
    """The chain page's links and flows of every chain over the last months of transfers, kept in the process's
    answers for `lake_dir` (`jinyu.chain.reads.warm`); the months warmed (none without transfers)."""
    months = due_months.transfer_months(Lake(lake_dir))
    if not months:
        return []
    with factory() as session:
        overrides = {c.code: service.segment_overrides(session, c.code) for c in definitions.load().chains}
        every = service.segment_overrides(session)
    p = definitions.load().parameters
    engine, results = DuckDBEngine(lake_dir), shared_results(lake_dir)
    try:
        warmed = reads.warm(engine, results, overrides, max(months))
        # The page's statements that do not depend on the window, asked as the services ask them.
        page = reads.PageReads(engine, results)
        service.segment_member_counts(page, every)  # the chains' list
        for code, own in overrides.items():
            service.segment_member_counts(page, own)
            for segments in {"", own}:  # membership only (network, contagion), and effective segments
                service.member_rows(page, code, segments)
            for month in warmed:  # the stored network of each month a window may end at
                stored.current_stamp(page, code, month, p)
                stored.stored_links(page, code, month, p)
        return warmed
    finally:
        engine.close()


class NetworkScheduler:
    def __init__(self, factory: sessionmaker[Session], lake_dir: Path, *, interval: float) -> None:
        self.factory, self.lake_dir, self.interval = factory, lake_dir, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Fingerprint | None = None
        self.built: dict[str, int] = {}  # every month this scheduler built, with its links (the last build)
        self.warmed: dict[str, str] = {}  # chain -> the stored month last held in memory
        self.pages_warmed: list[str] = []  # the months of the chain page's scans last kept (`warm_pages`)

    def check_once(self) -> dict[str, int] | None:
        """Build the due months if the inputs changed since the last check that built or found nothing due;
        None when they did not change or another process held the lock (then the next check tries again)."""
        lake = Lake(self.lake_dir)
        if fingerprint(lake) == self._seen or not lake.files("transfers"):
            return None
        written = build_due(self.factory, self.lake_dir, "schedule")
        if written is not None:
            self.built.update(written)
            self.warmed = warm(self.lake_dir)
            self.pages_warmed = warm_pages(self.factory, self.lake_dir)
            self._seen = fingerprint(lake)  # after the build: its own files are no change to act on
        return written

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chain-network-schedule", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception:  # a broken load or a transient error: log it and look again at the next tick
                log.exception("scheduled chain network build failed")
            self._stop.wait(self.interval)
