"""Audit test fixtures."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def session_factory(
    session_factory: sessionmaker[Session], db_connection: Connection
) -> sessionmaker[Session]:
    """The shared fixture, made safe for tests that commit on SQLite.

    pysqlite defers BEGIN until the first write, so the sessions' SAVEPOINT would be the outermost one and
    its RELEASE (a session "commit") would commit for real, leaking rows into later tests. A no-op write
    opens the real outer transaction first. (Reported to the lead for tests/fixtures/database.py.)
    """
    if db_connection.dialect.name == "sqlite":
        db_connection.execute(text("DELETE FROM audit_head WHERE 1 = 0"))
    return session_factory
