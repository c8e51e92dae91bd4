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
