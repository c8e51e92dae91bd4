"""A pipeline's statements go to PostgreSQL together: queued in libpq and written with the Sync, one wait for
the answers; the transaction's BEGIN rides on the first pipeline instead of a round trip of its own. What must
not change: the statements still run inside the session's transaction (a rollback undoes them), in order, and
an error still comes out as the SQLAlchemy exception and leaves the transaction to roll back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import Pipeline
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from jinyu.core import db
from jinyu.core.pipeline import run

pytestmark = pytest.mark.postgres


@pytest.fixture
def probe(postgres_engine: Engine) -> Iterator[tuple[sessionmaker[Session], str]]:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    table = f"pipeline_together_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (n int PRIMARY KEY)"))
    try:
        yield db.make_sessionmaker(engine), table
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


@pytest.fixture
def exchanges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times psycopg sent queued commands and read answers (its pipeline's `_communicate_gen`)."""
    calls: list[int] = []
    original = Pipeline._communicate_gen

    def counted(self: Any) -> Any:
        calls.append(1)
        return (yield from original(self))

    monkeypatch.setattr(Pipeline, "_communicate_gen", counted)
    return calls


def _count(factory: sessionmaker[Session], table: str) -> int:
    with factory() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_new_transaction_and_three_statements_are_one_exchange(
    probe: tuple[sessionmaker[Session], str], exchanges: list[int]
) -> None:
    factory, table = probe
    with factory() as s:
        driver = s.connection().connection.driver_connection
        assert driver.pgconn.transaction_status == TransactionStatus.IDLE  # no BEGIN sent yet
        rows = run(
            s,
            [
                (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 1}]),
                (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 2}]),
                (f"SELECT n FROM {table} ORDER BY n", [{}]),
            ],
        )
        assert rows == [[], [], [(1,), (2,)]]  # in order: the SELECT sees both inserts
        # psycopg alone: one exchange for its BEGIN and one per statement, then the Sync's (5)
        assert len(exchanges) == 1
        assert driver.pgconn.transaction_status == TransactionStatus.INTRANS  # the BEGIN went with them
        s.rollback()
    assert _count(factory, table) == 0  # they were inside the session's transaction


def test_later_pipelines_of_the_transaction_see_the_earlier_ones_and_commit(
    probe: tuple[sessionmaker[Session], str],
) -> None:
    factory, table = probe
    with factory() as s:
        run(s, [(f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 5}])])
        (rows,) = run(s, [(f"SELECT count(*) FROM {table}", [{}])])
        assert rows == [(1,)]
        s.commit()
    assert _count(factory, table) == 1


def test_an_error_is_the_sqlalchemy_exception_and_nothing_is_kept(
    probe: tuple[sessionmaker[Session], str],
) -> None:
    factory, table = probe
    with factory() as s:
        with pytest.raises(sa_exc.IntegrityError):
            run(
                s,
                [
                    (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 7}]),
                    (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 7}]),  # duplicate key
                    (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 8}]),  # aborted with the pipeline
                ],
            )
        s.rollback()
        run(s, [(f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 9}])])  # the session is usable again
        s.commit()
    assert _count(factory, table) == 1


def test_executemany_still_goes_as_psycopg_sends_it(probe: tuple[sessionmaker[Session], str]) -> None:
    factory, table = probe
    with factory() as s:
        run(s, [(f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 1}, {"n": 2}, {"n": 3}])])
        s.commit()
    assert _count(factory, table) == 3
