"""Table statistics kept fresh where the PostgreSQL server does not: a server process's background thread.

Why: the settlement path's reads are prepared statements. PostgreSQL may switch a prepared statement to a
generic plan made from the statistics of the moment, and re-plans only when a table's statistics change
(ANALYZE). On a server running with `autovacuum = off` — as the machines this project is tested on are
configured — a new database's tables are never analysed, so a generic plan made while the claim tables were
nearly empty reads them whole on every settlement for as long as the connection lives: the CPU per settlement
grew with the tables (1.8 → 11 ms of PostgreSQL per settlement in-process over 10,000 settlements; one ANALYZE
brought it back to 2.5 ms — docs/claims.md, issue 20, branch h-as).

What it does: every `interval` seconds, if the server's `autovacuum` is off, it analyses each of this
database's tables whose rows changed since their last analysis by more than autovacuum's own default
threshold (50 rows + 10 % of the table), and vacuums (then analyses) those whose dead rows exceed autovacuum's
vacuum threshold (50 + 20 %). Where autovacuum is on it does nothing: the server already does this. One
process at a time does it (a session advisory lock tried, not waited for, released after the pass), so several
workers do not queue. ANALYZE and VACUUM (not FULL) take a lock that does not block reads or writes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# Advisory lock key (any constant of ours): "one process keeps the statistics at a time".
_LOCK_KEY = 0x4A494E5955_0001
# autovacuum's defaults (autovacuum_{analyze,vacuum}_{threshold,scale_factor}), applied by hand.
ANALYZE_BASE, ANALYZE_SCALE = 50, 0.1
VACUUM_BASE, VACUUM_SCALE = 50, 0.2

_DUE = text(
    """
    SELECT s.relname, s.n_mod_since_analyze, s.n_dead_tup, GREATEST(c.reltuples, 0) AS reltuples
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
     WHERE s.schemaname = current_schema()
    """
)


@dataclass(frozen=True)
class TableCounts:
    name: str
    changed_since_analyze: int
    dead_rows: int
    rows: float  # the planner's last estimate (0 when never analysed)


def due(tables: list[TableCounts]) -> tuple[list[str], list[str]]:
    """(tables to vacuum and analyse, tables to analyse only) by autovacuum's default thresholds."""
    vacuum = [t.name for t in tables if t.dead_rows > VACUUM_BASE + VACUUM_SCALE * t.rows]
    analyze = [
        t.name
        for t in tables
        if t.name not in vacuum and t.changed_since_analyze > ANALYZE_BASE + ANALYZE_SCALE * t.rows
    ]
    return vacuum, analyze


def autovacuum_off(conn: Connection) -> bool:
    return conn.execute(text("SELECT current_setting('autovacuum') = 'off'")).scalar_one() is True


def keep_once(engine: Engine) -> tuple[list[str], list[str]]:
    """One pass: the tables vacuumed and analysed, and analysed only ([] and [] when another process holds
    the turn or autovacuum is on). VACUUM cannot run in a transaction: the connection is in autocommit."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not autovacuum_off(conn):
            return [], []
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar_one():
            return [], []
        try:
            rows = conn.execute(_DUE).all()
            vacuum, analyze = due([TableCounts(r[0], int(r[1]), int(r[2]), float(r[3])) for r in rows])
            for name in vacuum:
                conn.execute(text(f'VACUUM (ANALYZE) "{_quoted(name)}"'))
            for name in analyze:
                conn.execute(text(f'ANALYZE "{_quoted(name)}"'))
            return vacuum, analyze
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})


def _quoted(name: str) -> str:
    return name.replace('"', '""')  # table names come from the catalogue; quoted all the same


class StatisticsKeeper:
    """The background thread (see module docstring); PostgreSQL only."""

    def __init__(self, engine: Engine, *, interval: float) -> None:
        self.engine, self.interval = engine, interval
        self.passes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: object, *, interval: float) -> StatisticsKeeper | None:
        """None when off (interval 0), not bound to an engine (a test connection) or not PostgreSQL."""
        if interval <= 0 or not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
            return None
        return cls(engine, interval=interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="table-statistics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                vacuumed, analysed = keep_once(self.engine)
                self.passes += 1
                if vacuumed or analysed:
                    log.info("table statistics: vacuumed %s, analysed %s", vacuumed, analysed)
            except Exception:  # statistics can wait for the next pass; never stop serving for them
                log.warning("table statistics pass failed", exc_info=True)
