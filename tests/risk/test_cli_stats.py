"""`jinyu risk stats` as a newcomer meets it: it acts for a regulator user like every command that acts for
someone, refuses a month that is not YYYY-MM as the API does (one message, exit 1), and says how to pass a
password when there is no terminal to ask for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    with db.transaction(db.make_sessionmaker(engine)) as s:
        make_user(s, make_org(s, OrgKind.REGULATOR), Role.REGULATOR_ANALYST, username="analyst")
        make_user(s, make_org(s, OrgKind.BANK_HEAD_OFFICE), Role.BANK_HQ_RISK, username="bank_risk")
    yield
    engine.dispose()
    get_settings.cache_clear()


def _stats(*args: str, password: str | None = PASSWORD) -> tuple[int, str]:
    stdin = f"{password}\n" if password is not None else None
    result = runner.invoke(app, ["risk", "stats", *args], input=stdin)
    return result.exit_code, result.output


def test_stats_need_a_regulator(store: None) -> None:
    code, out = _stats()
    assert code == 1 and "--as-user" in out
    code, out = _stats("--as-user", "bank_risk", "--password-stdin")
    assert code == 1 and "risk.stats" in out
    code, out = _stats("--as-user", "analyst", "--password-stdin", "--json")
    assert code == 0 and out.strip().endswith("[]")


@pytest.mark.parametrize("month", ["banana", "2026-13", "2026-1", "202601"])
def test_a_bad_month_is_refused_once(store: None, month: str) -> None:
    code, out = _stats("--as-user", "analyst", "--password-stdin", "--from-month", month)
    assert code == 1
    assert out.count("from_month") == 1, out  # the field's message, printed once
    assert "month must be YYYY-MM" in out


def test_no_terminal_says_how_to_pass_the_password(store: None) -> None:
    code, out = _stats("--as-user", "analyst", password=None)
    assert code == 1 and "--password-stdin" in out
