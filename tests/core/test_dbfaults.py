"""Which database errors are a lost connection (503 `database_unavailable`), and which keep their own handling."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import errors as pg
from sqlalchemy import exc as sa_exc
from typer.testing import CliRunner

from jinyu.app import create_app
from jinyu.claim import cli as claim_cli
from jinyu.config import get_settings, load_settings
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
    assert (lost.status, lost.code, lost.headers()) == (503, "database_unavailable", {"Retry-After": "1"})
    assert lost.problem()["detail"].startswith("与数据库的连接中断")


@pytest.mark.parametrize("error", NOT_LOST, ids=lambda e: type(e).__name__)
def test_other_database_errors_keep_their_own_handling(error: BaseException) -> None:
    assert not connection_lost(error)
    assert not connection_lost(wrapped(error))
    assert unavailable(wrapped(error)) is None


def test_what_sqlalchemy_recognised_as_a_disconnect_is_lost_whatever_the_driver() -> None:
    assert connection_lost(wrapped(sqlite3.OperationalError("disk I/O error"), invalidated=True))
    assert not connection_lost(ValueError("not a database error"))


def closed_port_url() -> str:
    """A PostgreSQL URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://nobody@127.0.0.1:{port}/nowhere"


def test_the_cli_says_the_database_is_unavailable_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server listens where the settings point: a readable message and exit code 1, not a traceback."""
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", closed_port_url())
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(claim_cli.app, ["products", "list", "--api-key", "nobody.secret"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "数据库暂不可用 / Database unavailable" in result.stderr
    assert "Traceback" not in result.output


def test_the_api_answers_503_with_retry_after_when_the_database_refuses(tmp_path: Path) -> None:
    """Any route, the database down: 503 problem+json `database_unavailable` with Retry-After, not a 500."""
    settings = load_settings(data_dir=tmp_path, database_url=closed_port_url(), audit_journal=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for method, path in (("GET", "/api/v1/users"), ("POST", "/api/v1/claims/settlements")):
            r = client.request(method, path, headers={"X-API-Key": "nobody.secret"}, json={})
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["retry-after"] == "1"
            assert (r.json()["code"], r.json()["instance"]) == ("database_unavailable", path)
