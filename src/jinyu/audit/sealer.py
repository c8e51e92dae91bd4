"""The sealer: a background thread of a server process that links journaled audit entries into the chain.

While a Sealer runs for a database, `audit.record()` on sessions bound to it journals entries (no chain-head
lock in the business transaction) and the sealer links them in batches, `interval` seconds apart at most, or
sooner when `wake()` is called. With several server processes, each runs one; a sealer that finds the head
held by another skips its turn (PostgreSQL), so they never queue behind each other.

What this trades: an entry is tamper-evident once sealed, not from its commit — an operator with write access
to the database could alter a journaled entry in the fraction of a second before the sealer links it.
`stop()` seals what is left; entries of a process that died are sealed by the next sealer, verify or search.

The Checkpointer (every server process, SQLite too) anchors the sealed chain outside the database: a signed
checkpoint every `every` entries or `seconds` seconds, and one more when it stops (see `audit.checkpointing`).
The sealer tells it what it sealed; it looks early once that could reach `every`, and on every poll.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import checkpointing, service
from jinyu.audit.anchor import Anchors
from jinyu.core.clock import utcnow
from jinyu.core.db import transaction

log = logging.getLogger(__name__)


class Sealer:
    def __init__(self, factory: sessionmaker[Session], engine: Engine, *, interval: float = 0.2) -> None:
        self.factory, self.engine, self.interval = factory, engine, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sealed = 0
        self.checkpointer: Checkpointer | None = None  # woken after each sealed batch

    @classmethod
    def for_factory(cls, factory: sessionmaker[Session], *, interval: float = 0.2) -> Sealer | None:
        """A sealer for the factory's database; None (entries chained inline) when its sessions are not bound
        to an engine (for instance to one test connection) or the database is SQLite, which lets one writer in
        at a time anyway: journaling buys no concurrency there, and a sealer would only compete for the lock."""
        bind = factory.kw.get("bind")
        if not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
            return None
        return cls(factory, bind, interval=interval)

    def start(self) -> None:
        service.journal_for(self.engine, True)
        self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop journaling new entries, then seal everything left (blocking on the head if need be)."""
        service.journal_for(self.engine, False)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.sealed += self.seal_once(wait=True, everything=True)

    def seal_once(self, *, wait: bool = False, everything: bool = False) -> int:
        with transaction(self.factory) as session:
            if everything:
                return service.seal_all(session)
            return service.seal(session, wait=wait)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.seal_once()
                self.sealed += done
            except Exception:  # keep sealing after a transient database error; the entries wait meanwhile
                log.exception("audit.seal failed; retrying")
                done = 0
            if done and self.checkpointer is not None:
                self.checkpointer.sealed(done)
            if done < service.SEAL_BATCH:
                self._wake.wait(self.interval)
                self._wake.clear()


class Checkpointer:
    """A background thread writing periodic signed checkpoints of the chain (see module docstring)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        anchors: Anchors,
        *,
        every: int,
        seconds: float,
        poll: float = 1.0,
    ) -> None:
        self.factory, self.anchors, self.every, self.seconds = factory, anchors, every, seconds
        self.poll = min(poll, seconds) if seconds else poll
        self.started = utcnow()
        self.written = 0
        self._unchecked = 0  # entries sealed since the last look at the chain (this process's sealer only)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_factory(
        cls, factory: sessionmaker[Session], anchors: Anchors, *, every: int, seconds: float
    ) -> Checkpointer | None:
        """None when both triggers are off or the sessions are not bound to an engine (a test connection)."""
        if not (every or seconds) or not isinstance(factory.kw.get("bind"), Engine):
            return None
        return cls(factory, anchors, every=every, seconds=seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audit-checkpointer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def sealed(self, count: int) -> None:
        """The sealer sealed `count` entries: look at the chain early only once they could make the count
        trigger due. Waking after every sealed batch opened a transaction, read the checkpoint file and
        verified its last signature many times a second under load for nothing (issue 20); the time trigger
        is still checked on every poll."""
        self._unchecked += count
        if self.every and self._unchecked >= self.every:
            self._wake.set()

    def stop(self) -> None:
        """Stop the thread, then pin whatever the chain gained since the last checkpoint."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.written += self.run_once(final=True)
        except Exception:
            log.exception("audit.checkpoint at stop failed")

    def run_once(self, *, final: bool = False) -> int:
        """Write a checkpoint if one is due (any new entry is, when `final`); how many were written."""
        every = 1 if final else self.every
        self._unchecked = 0
        cp = checkpointing.checkpoint_if_due(
            self.factory, self.anchors, every=every, seconds=self.seconds, since=self.started
        )
        return 0 if cp is None else 1

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.written += self.run_once()
                pause = self.poll
            except Exception:  # a refused checkpoint (the chain broke) or a database error: say so, go on
                log.exception("audit.checkpoint failed; retrying later")
                pause = max(self.poll, 60.0)
            self._wake.wait(pause)
            self._wake.clear()
