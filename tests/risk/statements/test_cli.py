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
from tests.fixtures.auth import make_org, make_user, principal

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


def test_check_prints_json(store: sessionmaker[Session], tmp_path: Path) -> None:
    args = ["risk", "statement-check", _file(tmp_path, csv_statement(GENUINE)), "--as-user", "cli_banker"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "genuine"
    table = runner.invoke(app, args, terminal_width=200)
    assert table.exit_code == 0 and "真实 / genuine" in table.stdout


def test_errors_are_readable_and_exit_non_zero(store: sessionmaker[Session], tmp_path: Path) -> None:
    bad = _file(tmp_path, csv_statement(GENUINE).replace(b",-3500.00,", b",-35OO.00,"))
    result = runner.invoke(app, ["risk", "statement-check", bad, "--as-user", "cli_banker"])
    assert result.exit_code == 1 and "line 11/amount" in result.output
    good = _file(tmp_path, csv_statement(GENUINE))
    refused = runner.invoke(app, ["risk", "statement-check", good, "--as-user", "cli_stranger"])
    assert refused.exit_code == 1 and "缺少企业有效授权" in refused.output
    nobody = runner.invoke(app, ["risk", "statement-check", good, "--as-user", "nobody"])
    assert nobody.exit_code == 1 and "nobody" in nobody.output
    with store() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "risk.statement.verify")).one()
    assert (entry.outcome, entry.actor_name) == ("denied", "cli_stranger")
