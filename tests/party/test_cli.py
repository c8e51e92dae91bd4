"""`jinyu users suspend | reactivate | revoke-tokens | set-password | keys ...` against a throwaway SQLite store."""

from __future__ import annotations

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
from jinyu.core import db, runtime
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.models import metadata
from jinyu.party import service
from jinyu.party.models import ServiceAccount, User
from jinyu.party.schemas import ServiceAccountCreate
from tests.fixtures.auth import make_org, make_user

runner = CliRunner()


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[sessionmaker[Session], str, str]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE, code="B1")
        make_user(s, bank, Role.BANK_HQ_RISK, username="li.si")
        account = service.create_service_account(
            s, SYSTEM, ServiceAccountCreate(name="core", org_id=bank.id, roles=[Role.BANK_HQ_RISK])
        )
    assert account.api_key is not None
    yield factory, account.id, account.api_key
    engine.dispose()
    get_settings.cache_clear()
    service.forget_api_keys()


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["users", *args], input=input)
    return result.exit_code, result.output


def test_suspend_revoke_and_reactivate_a_user(store: tuple[sessionmaker[Session], str, str]) -> None:
    factory, _, _ = store
    code, out = _run("suspend", "li.si", "--reason", "离职", "--json")
    assert code == 0, out
    assert json.loads(out)["active"] is False
    code, out = _run("revoke-tokens", "li.si", "--reason", "incident", "--json")
    assert code == 0, out
    code, out = _run("reactivate", "li.si", "--reason", "复职")
    assert code == 0 and "reactivated" in out
    code, out = _run("set-password", "li.si", "--reason", "重置", input="Password123!\nPassword123!\n")
    assert code == 1 and "common password" in out and "password" in out
    code, out = _run("suspend", "nobody", "--reason", "x1")
    assert code == 1 and "用户不存在" in out
    with factory() as s:
        user = s.scalars(select(User).where(User.username == "li.si")).one()
        assert (user.active, user.credential_version) == (True, 2)  # suspension and revocation bumped it
        actions = [
            e.action
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.at))
            if user.id in e.subject_ids
        ]
    assert actions[-3:] == ["party.user.suspend", "party.user.revoke_tokens", "party.user.reactivate"]


def test_rotate_and_revoke_a_key(store: tuple[sessionmaker[Session], str, str]) -> None:
    factory, account_id, old_key = store
    code, out = _run("keys", "rotate", account_id, "--reason", "季度轮换", "--json")
    assert code == 0, out
    new_key = json.loads(out)["api_key"]
    assert new_key and new_key != old_key
    with factory() as s:
        from jinyu.party.errors import InvalidToken

        service.forget_api_keys()
        with pytest.raises(InvalidToken):
            service.authenticate_api_key(s, old_key)
        assert service.authenticate_api_key(s, new_key).subject_id == account_id
    code, out = _run("keys", "list", "--json")
    assert code == 0 and [a["key_prefix"] for a in json.loads(out)["items"]] == [new_key.split(".")[0]]
    assert all(a["api_key"] is None for a in json.loads(out)["items"])
    code, out = _run("keys", "revoke", account_id, "--reason", "泄露")
    assert code == 0, out
    code, out = _run("keys", "suspend", account_id, "--reason", "停用", "--json")
    assert code == 0 and json.loads(out)["active"] is False
    with factory() as s:
        account = s.get(ServiceAccount, account_id)
        assert account is not None and account.key_revoked_at is not None and not account.active
        actions = [
            e.action
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.at))
            if account_id in e.subject_ids and e.action != "party.service_account.list"
        ]
    assert actions[-3:] == [
        "party.service_account.rotate_key",
        "party.service_account.revoke_key",
        "party.service_account.suspend",
    ]
