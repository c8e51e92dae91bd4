"""Reads marked `planned_each_time` are never prepared, so their plan follows the table as it grows; unmarked
statements are prepared by psycopg once used often, as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim.repository import pipeline as claim_reads
from jinyu.core import db
from jinyu.core.pipeline import _PLANNED_EACH_TIME, planned_each_time, run

pytestmark = pytest.mark.postgres


@pytest.fixture
def probe(postgres_engine: Engine) -> Iterator[tuple[sessionmaker[Session], str]]:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    table = f"planned_probe_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (k text PRIMARY KEY, v int)"))
    try:
        yield db.make_sessionmaker(engine), table
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


def _prepared(session: Session, table: str) -> list[str]:
    rows = session.execute(text("SELECT statement FROM pg_prepared_statements"))
    return [r[0] for r in rows if table in r[0]]


def test_a_marked_read_is_never_prepared_and_an_unmarked_one_is(
    probe: tuple[sessionmaker[Session], str],
) -> None:
    factory, table = probe
    marked = planned_each_time(f"SELECT v FROM {table} WHERE k = ANY(%(keys)s)")
    unmarked = f"SELECT k FROM {table} WHERE v = ANY(%(values)s)"
    with factory() as s:
        s.execute(text(f"INSERT INTO {table} VALUES ('a', 1), ('b', 2)"))
        for _ in range(12):  # psycopg prepares after 5 runs of the same text on a connection
            got, other = run(s, [(marked, [{"keys": ["a", "b"]}]), (unmarked, [{"values": [2]}])])
            assert sorted(got) == [(1,), (2,)] and other == [("b",)]
        prepared = _prepared(s, table)
    assert len(prepared) == 1 and "WHERE v = ANY" in prepared[0], prepared


def test_the_settlement_reads_of_growing_tables_are_marked() -> None:
    # Message ids, business keys, visits in force and accumulators grow with every settlement.
    for sql in (
        claim_reads._MESSAGE,
        claim_reads._MESSAGES_MANY,
        claim_reads._DUPLICATES,
        claim_reads._ACTIVE_VISITS,
        claim_reads._AMOUNTS_MANY,
    ):
        assert sql in _PLANNED_EACH_TIME, sql
