"""Table statistics kept where autovacuum is off (core.upkeep): thresholds by hand, and the failure it is for —
a prepared statement's generic plan made while a table was small stays a whole-table scan until an ANALYZE."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text

from jinyu.core import upkeep
from jinyu.core.upkeep import StatisticsKeeper, TableCounts, due


def test_thresholds_are_autovacuums_defaults() -> None:
    tables = [
        TableCounts("a", changed_since_analyze=151, dead_rows=0, rows=1000),  # > 50 + 100: analyse
        TableCounts("b", changed_since_analyze=150, dead_rows=0, rows=1000),  # not above: left
        TableCounts("c", changed_since_analyze=900, dead_rows=251, rows=1000),  # > 50 + 200 dead: vacuum
        TableCounts(
            "d", changed_since_analyze=51, dead_rows=50, rows=0
        ),  # never analysed, 51 rows in: analyse
        TableCounts("e", changed_since_analyze=0, dead_rows=250, rows=1000),  # 250 dead, not above: left
    ]
    assert due(tables) == (["c"], ["a", "d"])


def test_off_for_sqlite_and_for_interval_zero(sqlite_engine: Engine) -> None:
    assert StatisticsKeeper.for_engine(sqlite_engine, interval=10) is None
    assert StatisticsKeeper.for_engine(object(), interval=10) is None


def _autovacuum_off(engine: Engine) -> bool:
    with engine.connect() as conn:
        return upkeep.autovacuum_off(conn)


def _plan(conn: psycopg.Connection) -> str:
    rows = conn.execute("EXPLAIN EXECUTE lookup(7)").fetchall()
    return "\n".join(r[0] for r in rows)


@pytest.mark.postgres
def test_a_generic_plan_made_on_a_small_table_is_replanned_after_a_pass(postgres_engine: Engine) -> None:
    if not _autovacuum_off(postgres_engine):
        pytest.skip("this server runs autovacuum: the keeper does nothing there, by design")
    assert StatisticsKeeper.for_engine(postgres_engine, interval=0) is None
    url = postgres_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE upkeep_probe (id bigint PRIMARY KEY, owner int NOT NULL)")
        conn.execute("CREATE INDEX upkeep_probe_owner ON upkeep_probe (owner)")
        conn.execute("INSERT INTO upkeep_probe VALUES (1, 7), (2, 8), (3, 9)")
        conn.execute("ANALYZE upkeep_probe")  # statistics of a new database: three rows, one page
        conn.execute("SET plan_cache_mode = force_generic_plan")  # what the plan cache settles on by itself
        conn.execute("PREPARE lookup(int) AS SELECT id FROM upkeep_probe WHERE owner = $1")
        conn.execute("EXECUTE lookup(7)")  # planned now, on the small table
        conn.execute("INSERT INTO upkeep_probe SELECT g, g % 5000 FROM generate_series(4, 200000) g")
        conn.execute("SELECT pg_stat_force_next_flush()")  # counts reach the statistics now, not within ~1 s
        stale = _plan(conn)
        assert "Seq Scan" in stale  # the failure: the whole table read for 40 rows

        vacuumed, analysed = upkeep.keep_once(postgres_engine)
        assert "upkeep_probe" in vacuumed + analysed

        fresh = _plan(conn)
        assert "Seq Scan" not in fresh and "upkeep_probe_owner" in fresh, fresh
        again = upkeep.keep_once(postgres_engine)  # nothing changed since: nothing to do
        assert "upkeep_probe" not in again[0] + again[1]


@pytest.mark.postgres
def test_a_pass_gives_way_to_another_process_holding_the_turn(postgres_engine: Engine) -> None:
    if not _autovacuum_off(postgres_engine):
        pytest.skip("this server runs autovacuum: the keeper does nothing there, by design")
    with postgres_engine.connect() as other:
        other.execute(text("CREATE TABLE upkeep_turn (id int)"))
        other.execute(text("INSERT INTO upkeep_turn SELECT generate_series(1, 1000)"))
        other.commit()
        other.execute(text("SELECT pg_stat_force_next_flush()"))  # counts seen now, not within ~1 s
        other.commit()
        assert other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": upkeep._LOCK_KEY}).scalar_one()
        assert upkeep.keep_once(postgres_engine) == ([], [])
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": upkeep._LOCK_KEY})
        other.commit()
    vacuumed, analysed = upkeep.keep_once(postgres_engine)
    assert "upkeep_turn" in vacuumed + analysed
