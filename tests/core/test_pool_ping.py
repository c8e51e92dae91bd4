"""The pool tests a connection that sat idle before handing it out, and replaces one the server closed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from jinyu.core import db


@pytest.mark.postgres
def test_an_idle_connection_the_server_closed_is_replaced(postgres_engine: Engine) -> None:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres_engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        pooled = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
        pooled.info[db._CHECKED_IN_AT] -= db.PING_AFTER_IDLE_SECONDS + 1  # as if idle for a while
        with engine.connect() as conn:  # the ping fails, the pool reconnects, the request never sees it
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged(postgres_engine: Engine) -> None:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    statements: list[str] = []
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 AS warm"))
        raw = engine.pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]
        traced = raw.cursor
        raw.cursor = lambda *a, **k: statements.append("cursor") or traced(*a, **k)  # spy on the ping
        with engine.connect():
            pass
        assert statements == []  # checked in a moment ago: handed out without a round trip
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_pinged_connection_is_handed_out_outside_any_transaction(postgres_engine: Engine) -> None:
    """The ping's own transaction ends with it: an autocommit caller (the statistics keeper's VACUUM) could not
    otherwise switch the connection (psycopg refuses while in a transaction), and was failing every pass."""
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        pooled = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
        pooled.info[db._CHECKED_IN_AT] -= db.PING_AFTER_IDLE_SECONDS + 1  # idle: pinged at checkout
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid  # the same one
            conn.execute(text("VACUUM pg_catalog.pg_class"))  # cannot run inside a transaction block
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_ping_keeps_the_statements_the_connection_prepared(postgres_engine: Engine) -> None:
    """psycopg prepares a statement on its fifth run and forgets all it prepared at a ROLLBACK (it sends
    DEALLOCATE ALL): a ping ended by rollback made the settlement path's statements parsed and planned anew
    after every idle spell (issue 20, h-bu). Break: end the ping with `rollback()` again and this fails."""
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    count = text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%jinyu_ping_probe%'")
    try:
        for n in range(6):  # prepared by psycopg from the fifth run on
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT %(n)s::int AS jinyu_ping_probe", {"n": n}).all()
                conn.commit()  # (closing without commit would roll back: the same forgetting)
        with engine.connect() as conn:
            assert conn.execute(count).scalar_one() == 1
            conn.commit()
        pooled = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
        pooled.info[db._CHECKED_IN_AT] -= db.PING_AFTER_IDLE_SECONDS + 1  # idle: pinged at checkout
        with engine.connect() as conn:
            assert conn.execute(count).scalar_one() == 1  # still prepared after the ping
            raw = conn.connection.driver_connection
            assert raw is not None and raw._prepared._names  # and psycopg still knows it
    finally:
        engine.dispose()
