"""`jinyu risk statement-check` against a throwaway SQLite store and lake configured through JINYU_* variables."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.audit.models import AuditEntry
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user, principal

from .world import GENUINE, build_lake, csv_statement

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        ent = make_org(s, OrgKind.ENTERPRISE, name="重庆甲科技有限公司")
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        other = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        until = utcnow() + dt.timedelta(days=9)
        grant = GrantCreate(
            grantee_org_id=bank.id,
            scopes=[Scope.STATEMENTS],
            purpose=Purpose.STATEMENT_VERIFICATION,
            valid_until=until,
        )
        consent.grant(s, principal(s, ent, Role.ENTERPRISE_ADMIN), grant)
        make_user(s, bank, Role.BANK_HQ_RISK, username="cli_banker")
        make_user(s, other, Role.BANK_HQ_RISK, username="cli_stranger")
        build_lake(tmp_path / "lake", ent.code)
    yield factory
    engine.dispose()
    get_settings.cache_clear()


def _file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "statement.csv"
    path.write_bytes(data)
    return str(path)


def _as(user: str) -> list[str]:
    return ["--as-user", user, "--password-stdin"]


LOGIN = PASSWORD + "\n"


def test_check_prints_json(store: sessionmaker[Session], tmp_path: Path) -> None:
    args = ["risk", "statement-check", _file(tmp_path, csv_statement(GENUINE)), *_as("cli_banker")]
    result = runner.invoke(app, [*args, "--json"], input=LOGIN)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "genuine"
    table = runner.invoke(app, args, terminal_width=200, input=LOGIN)
    assert table.exit_code == 0 and "真实 / genuine" in table.stdout


def test_a_wrong_password_or_no_identity_is_refused(store: sessionmaker[Session], tmp_path: Path) -> None:
    good = _file(tmp_path, csv_statement(GENUINE))
    wrong = runner.invoke(app, ["risk", "statement-check", good, *_as("cli_banker")], input="nope\n")
    assert wrong.exit_code == 1 and "verdict" not in wrong.output
    neither = runner.invoke(app, ["risk", "statement-check", good])
    assert neither.exit_code == 1 and "--as-user" in neither.output


def test_errors_are_readable_and_exit_non_zero(store: sessionmaker[Session], tmp_path: Path) -> None:
    bad = _file(tmp_path, csv_statement(GENUINE).replace(b",-3500.00,", b",-35OO.00,"))
    result = runner.invoke(app, ["risk", "statement-check", bad, *_as("cli_banker")], input=LOGIN)
    assert result.exit_code == 1 and "line 11/amount" in result.output
    good = _file(tmp_path, csv_statement(GENUINE))
    refused = runner.invoke(app, ["risk", "statement-check", good, *_as("cli_stranger")], input=LOGIN)
    assert refused.exit_code == 1 and "缺少企业有效授权" in refused.output
    nobody = runner.invoke(app, ["risk", "statement-check", good, *_as("nobody")], input=LOGIN)
    assert nobody.exit_code == 1 and "verdict" not in nobody.output
    with store() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "risk.statement.verify")).one()
    assert (entry.outcome, entry.actor_name) == ("denied", "cli_stranger")
