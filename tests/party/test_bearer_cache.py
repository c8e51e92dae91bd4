"""Bearer tokens kept per process (`party.service.bearer`): a token seen before skips its signature check and the
ORM loads, yet a revocation made anywhere — another server process, the CLI, a DBA — refuses it at the very next
request, because its user's row is read on every request.

"Another process" is the database changed under the app with plain SQL: nothing in this process hears of it, as
no other process's change would be heard. The last test makes the change from a real second process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.orm import Session

from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.core.runtime import unit_of_work
from jinyu.migrate import upgrade
from jinyu.party import service as party
from jinyu.party.errors import InvalidToken
from jinyu.party.models import User
from jinyu.party.schemas import OrgCreate, UserCreate
from jinyu.party.service import bearer, identity
from tests.fixtures.auth import PASSWORD, login, make_org, make_user

SRC = Path(__file__).resolve().parents[2] / "src"
# The second process: revoke the user's tokens as `jinyu users revoke-tokens` does, through the service.
REVOKE = """
import sys
from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM
from jinyu.core.runtime import unit_of_work
from jinyu.party import service as party
from jinyu.party.schemas import Revocation

with unit_of_work(load_settings(data_dir=sys.argv[1])) as session:
    user_id = party.user_id_for(session, SYSTEM, sys.argv[2])
    party.revoke_user_tokens(session, SYSTEM, user_id, Revocation(reason="泄露 / leaked"))
"""


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _elsewhere(session: Session, user_id: str, **values: object) -> None:
    """The user's row changed and committed as another process would (no service call, no in-process hook)."""
    session.execute(update(User).where(User.id == user_id).values(**values))
    session.commit()


@pytest.fixture
def admin_headers(client: TestClient, session: Session) -> dict[str, str]:
    ops = make_org(session, OrgKind.OPERATOR)
    admin = make_user(session, ops, Role.PLATFORM_ADMIN)
    session.commit()
    return login(client, admin.username)


@pytest.fixture
def user(session: Session) -> User:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    found = make_user(session, bank, Role.BANK_HQ_RISK)
    session.commit()
    return found


def test_a_token_seen_before_is_answered_from_the_cache(
    client: TestClient, session: Session, settings: Settings, user: User
) -> None:
    headers = login(client, user.username)
    key = bearer.digest(_token(headers), settings.key("signing_key"))
    assert _me(client, headers) == 200
    assert key in bearer._cache
    # the cached path builds no principal of its own: the same object comes back
    first = party.authenticate_token(session, _token(headers), settings)
    assert party.authenticate_token(session, _token(headers), settings) is first
    assert first.subject_id == user.id and first.roles == frozenset({Role.BANK_HQ_RISK})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"credential_version": User.credential_version + 1}, "令牌已撤销 / token revoked"),
        ({"active": False}, "用户已停用 / user is disabled"),
    ],
)
def test_a_revocation_made_elsewhere_refuses_the_cached_token_at_the_next_request(
    client: TestClient,
    session: Session,
    settings: Settings,
    user: User,
    change: dict[str, object],
    message: str,
) -> None:
    headers = login(client, user.username)
    assert _me(client, headers) == 200 and _me(client, headers) == 200  # seen, and answered from the cache
    _elsewhere(session, user.id, **change)
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    with pytest.raises(InvalidToken) as caught:
        party.authenticate_token(session, _token(headers), settings)
    assert caught.value.detail == message


def test_a_reactivated_user_does_not_revive_a_cached_token(
    client: TestClient, session: Session, user: User, admin_headers: dict[str, str]
) -> None:
    headers = login(client, user.username)
    assert _me(client, headers) == 200
    for active, reason in ((False, "离职"), (True, "复职")):
        resp = client.patch(
            f"/api/v1/users/{user.id}", headers=admin_headers, json={"active": active, "reason": reason}
        )
        assert resp.status_code == 200
    assert _me(client, headers) == 401
    assert _me(client, login(client, user.username)) == 200


def test_a_cached_token_expires_when_its_exp_says(
    client: TestClient, session: Session, settings: Settings, user: User
) -> None:
    # Six seconds of life: the two requests must land before "exp" even on a slow, loaded machine (two seconds
    # did not: CI once saw the first answer come back after the token had expired).
    expires = int(time.time()) + 6
    token = identity.issue_token(user, settings, utcnow(), expires_at=expires).access_token
    headers = {"Authorization": f"Bearer {token}"}
    assert _me(client, headers) == 200 and _me(client, headers) == 200
    assert time.time() < expires, "the machine was too slow for this test's window"
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert _me(client, headers) == 401


def test_a_new_signing_key_refuses_tokens_cached_under_the_old_one(
    session: Session, settings: Settings, user: User
) -> None:
    token = identity.issue_token(user, settings, utcnow()).access_token
    assert party.authenticate_token(session, token, settings).subject_id == user.id
    rotated = load_settings(data_dir=settings.data_dir, signing_key="another-signing-key-0123456789abcdef")
    with pytest.raises(InvalidToken):
        party.authenticate_token(session, token, rotated)


def test_a_revocation_by_another_process_refuses_the_cached_token(tmp_path: Path) -> None:
    """A server on a SQLite file; a second process revokes the user's tokens through the service."""
    settings = load_settings(data_dir=tmp_path / "data")
    upgrade(settings)
    with unit_of_work(settings) as s:
        org = party.create_org(s, SYSTEM, OrgCreate(kind=OrgKind.BANK_HEAD_OFFICE, code="C10000000000000001",
                                                    name="某银行", district_code="500101"))  # fmt: skip
        party.create_user(s, SYSTEM, UserCreate(username="risk-a", display_name="风险", org_id=org.id,
                          roles=[Role.BANK_HQ_RISK], password=SecretStr(PASSWORD)))  # fmt: skip
    with TestClient(create_app(settings)) as client:
        headers = login(client, "risk-a")
        assert _me(client, headers) == 200 and _me(client, headers) == 200  # seen, then from the cache
        env = dict(os.environ, PYTHONPATH=str(SRC))
        command = [sys.executable, "-c", REVOKE, str(settings.data_dir), "risk-a"]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        refused = client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 401 and refused.json()["detail"] == "令牌已撤销 / token revoked"
