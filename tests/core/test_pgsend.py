"""`core.pipeline.run` sends a pipeline's statements in one write (`core.pgsend`): each statement's rows, in
order, in the session's transaction (its BEGIN in the same pipeline), errors as the session's, prepared
statements shared with psycopg's own cache (which forgets them all at a rollback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
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
    table = f"pgsend_probe_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (n int PRIMARY KEY, label text)"))
    try:
        yield db.make_sessionmaker(engine), table
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


def _driver(session: Session) -> psycopg.Connection[Any]:
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def _count(factory: sessionmaker[Session], table: str) -> int:
    with factory() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_rows_in_order_in_the_sessions_transaction(probe: tuple[sessionmaker[Session], str]) -> None:
    factory, table = probe
    with factory() as s:
        assert _driver(s).pgconn.transaction_status == TransactionStatus.IDLE  # no BEGIN sent yet
        results = run(
            s,
            [
                (f"INSERT INTO {table} (n, label) VALUES ($1, $2)", [[1, "一"]]),  # positional
                (f"INSERT INTO {table} (n, label) VALUES (%(n)s, %(label)s)", [{"n": 2, "label": "b"}]),
                (f"INSERT INTO {table} (n, label) VALUES (%(n)s, %(label)s)", [{"n": 3, "label": "c"}] * 1),
                (f"INSERT INTO {table} (n) VALUES (%(n)s)", [{"n": 4}, {"n": 5}]),  # several sets: no rows
                (f"SELECT n, label FROM {table} ORDER BY n", [{}]),
                (f"SELECT n FROM {table} WHERE n > $1 ORDER BY n DESC", [[3]]),
            ],
        )
        assert results[:4] == [[], [], [], []]
        assert results[4] == [(1, "一"), (2, "b"), (3, "c"), (4, None), (5, None)]
        assert results[5] == [(5,), (4,)]
        assert _driver(s).pgconn.transaction_status == TransactionStatus.INTRANS  # BEGIN went with them
        s.rollback()
    assert _count(factory, table) == 0  # all of it was in the transaction


def test_an_error_is_the_sessions_and_the_rest_is_not_run(probe: tuple[sessionmaker[Session], str]) -> None:
    factory, table = probe
    with factory() as s:
        run(s, [(f"INSERT INTO {table} (n) VALUES (1)", [{}])])
        with pytest.raises(sa_exc.IntegrityError, match="duplicate key"):
            run(
                s,
                [
                    (f"INSERT INTO {table} (n) VALUES (2)", [{}]),
                    (f"INSERT INTO {table} (n) VALUES (1)", [{}]),
                    (f"INSERT INTO {table} (n) VALUES (3)", [{}]),
                ],
            )
        s.rollback()
        run(s, [(f"INSERT INTO {table} (n) VALUES (3)", [{}])])  # the connection is usable again
        s.commit()
    with factory() as s:
        assert [r[0] for r in s.execute(text(f"SELECT n FROM {table}"))] == [3]


def test_a_value_that_cannot_be_sent_sends_nothing(probe: tuple[sessionmaker[Session], str]) -> None:
    factory, table = probe
    with factory() as s:
        run(s, [(f"INSERT INTO {table} (n) VALUES (1)", [{}])])
        with pytest.raises(sa_exc.DatabaseError, match="cannot adapt"):
            run(
                s,
                [
                    (f"INSERT INTO {table} (n) VALUES (2)", [{}]),
                    (f"INSERT INTO {table} (n, label) VALUES ($1, $2)", [[3, object()]]),
                ],
            )
        # nothing of that pipeline reached the server, and the transaction goes on
        assert run(s, [(f"SELECT n FROM {table} ORDER BY n", [{}])]) == [[(1,)]]
        s.commit()
    assert _count(factory, table) == 1


def _prepared(session: Session) -> list[str]:
    rows = run(session, [("SELECT statement FROM pg_prepared_statements ORDER BY name", [{}])])[0]
    return [r[0] for r in rows]


def test_prepared_statements_survive_psycopgs_deallocation(probe: tuple[sessionmaker[Session], str]) -> None:
    factory, table = probe
    select = f"SELECT count(*) FROM {table} WHERE n > %(n)s"
    with factory() as s:
        threshold = _driver(s).prepare_threshold
        assert threshold is not None
        for n in range(threshold + 2):
            assert run(s, [(select, [{"n": n}])]) == [[(0,)]]
        assert any(table in stmt for stmt in _prepared(s))  # prepared once used often
        for _ in range(threshold + 2):  # psycopg's own path prepares one too...
            s.execute(text(f"SELECT count(*) FROM {table} WHERE n < :n"), {"n": 1})
        s.rollback()  # ...so its rollback deallocates every prepared statement of the connection
        assert _prepared(s) == []
        assert run(s, [(select, [{"n": 0}])]) == [[(0,)]]  # not a statement that no longer exists
        s.commit()


def test_a_refused_pipeline_leaves_no_statement_believed_prepared(
    probe: tuple[sessionmaker[Session], str],
) -> None:
    factory, table = probe
    select = f"SELECT count(*) FROM {table} WHERE n > %(n)s"
    with factory() as s:
        threshold = _driver(s).prepare_threshold
        assert threshold is not None
        for n in range(threshold):  # the next run would prepare it
            run(s, [(select, [{"n": n}])])
        with pytest.raises(sa_exc.DatabaseError, match="cannot adapt"):
            run(
                s,
                [(select, [{"n": 0}]), (f"INSERT INTO {table} (n, label) VALUES ($1, $2)", [[1, object()]])],
            )
        assert run(s, [(select, [{"n": 0}])]) == [[(0,)]]  # prepared now, not believed so before
        assert run(s, [(select, [{"n": 0}])]) == [[(0,)]]
        s.commit()
