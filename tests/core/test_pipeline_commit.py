"""A write batch may carry its transaction's COMMIT: the rows and the commit in one round trip, and the
session's own commit afterwards sends nothing. Not when the unit of work gained objects inside the batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim.models import ClaimAlert
from jinyu.core import db
from jinyu.core.pipeline import batched_writes, write

pytestmark = pytest.mark.postgres


@pytest.fixture
def probe(postgres_engine: Engine) -> Iterator[tuple[sessionmaker[Session], str, list[str]]]:
    """A session factory on its own engine, a table of its own, and every statement the engine sends."""
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    table = f"pipeline_probe_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (n int)"))
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    try:
        yield db.make_sessionmaker(engine), table, sent
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


def _status(session: Session) -> TransactionStatus:
    return session.connection().connection.driver_connection.pgconn.transaction_status  # type: ignore[union-attr,no-any-return]


def _count(factory: sessionmaker[Session], table: str) -> int:
    with factory() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_commit_goes_with_the_rows(probe: tuple[sessionmaker[Session], str, list[str]]) -> None:
    factory, table, sent = probe
    with factory() as s:
        s.execute(text("SELECT 1"))  # the transaction is open
        with batched_writes(s, then_commit=True):
            write(s, f"INSERT INTO {table} (n) VALUES (1), (2)")
        assert _status(s) == TransactionStatus.IDLE  # committed by the pipeline
        sent.clear()
        s.commit()  # nothing left to send
        assert sent == []
    assert _count(factory, table) == 2


def test_objects_added_inside_keep_the_ordinary_commit(
    probe: tuple[sessionmaker[Session], str, list[str]],
) -> None:
    factory, table, _ = probe
    with factory() as s:
        s.execute(text("SELECT 1"))
        with batched_writes(s, then_commit=True):
            write(s, f"INSERT INTO {table} (n) VALUES (3)")
            s.add(ClaimAlert(id=db.new_id(), book_id="no-such-book", kind="probe", message="probe"))
        assert _status(s) == TransactionStatus.INTRANS  # the alert is not flushed yet: no commit sent
        s.expunge_all()  # (the alert's book does not exist; the point is the commit left to the session)
        s.commit()
    assert _count(factory, table) == 1


def test_an_error_in_the_batch_commits_nothing(probe: tuple[sessionmaker[Session], str, list[str]]) -> None:
    factory, table, _ = probe
    with factory() as s:
        with pytest.raises(Exception, match="division by zero"), batched_writes(s, then_commit=True):
            write(s, f"INSERT INTO {table} (n) VALUES (4)")
            write(s, f"INSERT INTO {table} (n) VALUES (1 / 0)")
        s.rollback()
    assert _count(factory, table) == 0
