"""Which database errors are a lost connection (503 `database_unavailable`), and which keep their own handling."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy import exc as sa_exc

from jinyu.core.dbfaults import connection_lost, unavailable
from jinyu.core.errors import DatabaseUnavailable


def wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    kind = sa_exc.OperationalError if isinstance(orig, psycopg.OperationalError) else sa_exc.DatabaseError
    return kind("SELECT 1", None, orig, connection_invalidated=invalidated)  # type: ignore[arg-type]


LOST = [
    psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
    psycopg.OperationalError("the connection is lost"),
    psycopg.OperationalError("connection failed: Connection refused"),
    pg.AdminShutdown("terminating connection due to administrator command"),  # 57P01
    pg.CrashShutdown("terminating connection because of crash of another server process"),  # 57P02
    pg.CannotConnectNow("the database system is starting up"),  # 57P03
    pg.ConnectionFailure("connection failure"),  # 08006
]
NOT_LOST = [
    pg.LockNotAvailable("canceling statement due to lock timeout"),  # 55P03: a time budget, deferred
    pg.QueryCanceled("canceling statement due to statement timeout"),  # 57014
    pg.DeadlockDetected("deadlock detected"),  # 40P01
    pg.UniqueViolation("duplicate key value violates unique constraint"),
    pg.PipelineAborted("pipeline aborted"),  # an earlier statement of the pipeline failed
    sqlite3.OperationalError("database is locked"),
]


@pytest.mark.parametrize("error", LOST, ids=lambda e: type(e).__name__)
def test_a_lost_connection_is_database_unavailable(error: BaseException) -> None:
    assert connection_lost(error) and connection_lost(wrapped(error))
    lost = unavailable(wrapped(error))
    assert isinstance(lost, DatabaseUnavailable)
    assert (lost.status, lost.code, lost.retry_after) == (503, "database_unavailable", 1)
    assert lost.problem()["detail"].startswith("与数据库的连接中断")


@pytest.mark.parametrize("error", NOT_LOST, ids=lambda e: type(e).__name__)
def test_other_database_errors_keep_their_own_handling(error: BaseException) -> None:
    assert not connection_lost(error)
    assert not connection_lost(wrapped(error))
    assert unavailable(wrapped(error)) is None


def test_what_sqlalchemy_recognised_as_a_disconnect_is_lost_whatever_the_driver() -> None:
    assert connection_lost(wrapped(sqlite3.OperationalError("disk I/O error"), invalidated=True))
    assert not connection_lost(ValueError("not a database error"))
