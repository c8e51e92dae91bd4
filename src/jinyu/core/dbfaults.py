"""A lost database connection as a fact: `DatabaseUnavailable` (503, retry), and sessions ended cleanly after it.

A connection is lost when the server terminates its backend (a failover, a restart, an administrator), when the
network drops it, or when a new one cannot be made. The driver says so with an `OperationalError` of no SQL
state (found on the client side: "the connection is lost", "server closed the connection unexpectedly",
"connection refused"), of class 08 (connection exception) or 57P01–57P03 (the server shutting down, crashed,
or not accepting connections yet); SQLAlchemy marks an error it recognised as a disconnect with
`connection_invalidated`. Other operational errors (a lock or statement timeout, a deadlock) are not losses:
they keep their own handling.

Whether the transaction committed is unknown when the connection went at its commit; callers answer
`DatabaseUnavailable` and the client retries the same request, which idempotency (message ids) makes safe.
"""

from __future__ import annotations

import logging

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from jinyu.core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
_SERVER_GOING = frozenset({"57P01", "57P02", "57P03"})  # admin_shutdown, crash_shutdown, cannot_connect_now
DETAIL = "与数据库的连接中断，请稍后用相同请求重试 / the connection to the database was lost; retry the same request"


def connection_lost(exc: BaseException) -> bool:
    """True when `exc` (a SQLAlchemy or psycopg error) says the database connection was lost or refused."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig: BaseException | None = exc.orig
    else:
        orig = exc
    if not isinstance(orig, psycopg.OperationalError) or isinstance(orig, psycopg.errors.PipelineAborted):
        return False
    state = orig.sqlstate
    return state is None or state.startswith("08") or state in _SERVER_GOING


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The domain error to answer for a lost connection (None: `exc` is something else)."""
    if not connection_lost(exc):
        return None
    lost = DatabaseUnavailable(detail=DETAIL)
    lost.__cause__ = exc
    return lost


def discard(session: Session, exc: BaseException) -> None:
    """End a session whose work failed with `exc`, so that no broken connection goes back to the pool: after a
    lost connection, invalidate it (a rollback would only fail again); otherwise roll back — and if that fails
    (the connection went meanwhile), invalidate. Never raises: the caller answers `exc`."""
    try:
        if connection_lost(exc):
            session.invalidate()
            return
        try:
            session.rollback()
        except Exception as rollback_error:
            log.warning("rollback failed: connection discarded", exc_info=rollback_error)
            session.invalidate()
    except Exception:  # invalidating a dead connection can itself fail; the pool replaces it either way
        log.warning("could not discard a failed session", exc_info=True)
    finally:
        session.close()
