"""The sealer: a background thread of a server process that links journaled audit entries into the chain.

While a Sealer runs for a database, `audit.record()` on sessions bound to it journals entries (no chain-head
lock in the business transaction) and the sealer links them in batches, `interval` seconds apart at most, or
sooner when `wake()` is called. With several server processes, each runs one; a sealer that finds the head
held by another skips its turn (PostgreSQL), so they never queue behind each other.

What this trades: an entry is tamper-evident once sealed, not from its commit — an operator with write access
to the database could alter a journaled entry in the fraction of a second before the sealer links it.
`stop()` seals what is left; entries of a process that died are sealed by the next sealer, verify or search.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service
from jinyu.core.db import transaction

log = logging.getLogger(__name__)


class Sealer:
    def __init__(self, factory: sessionmaker[Session], engine: Engine, *, interval: float = 0.2) -> None:
        self.factory, self.engine, self.interval = factory, engine, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sealed = 0

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
            if done < service.SEAL_BATCH:
                self._wake.wait(self.interval)
                self._wake.clear()
