"""Login tells nothing about which usernames exist: the same work (one argon2 verification) and the same answer
for an unknown name, a wrong password, a suspended user and a locked account; a per-address throttle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.core.auth import OrgKind, Role
from jinyu.party import service
from jinyu.party.errors import AccountLocked, BadCredentials, LoginThrottled
from jinyu.party.service import logins as login_module
from tests.fixtures.auth import PASSWORD, make_org, make_user

TOKEN = "/api/v1/auth/token"
NOW = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification run (the hash verified against), counted — not timed."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        calls.append(str(hash))
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_module, "utcnow", lambda: NOW)


def _post(client: TestClient, username: str, password: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    resp = client.post(TOKEN, data={"username": username, "password": password})
    headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() not in {"date", "x-request-id"}}
    return resp.status_code, resp.json(), headers


def test_unknown_user_wrong_password_and_suspended_user_get_the_same_answer_after_the_same_work(
    client: TestClient, session: Session, verifications: list[str]
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    alice = make_user(session, ent, Role.ENTERPRISE_ADMIN, username="alice-known")
    bob = make_user(session, ent, Role.ENTERPRISE_ADMIN, username="bob-suspended")
    bob.active = False
    session.commit()
    answers = {}
    for name, password in [
        ("nobody-here", PASSWORD),
        ("alice-known", "Wrong-Password-1x"),
        ("bob-suspended", PASSWORD),
    ]:
        verifications.clear()
        answers[name] = _post(client, name, password)
        assert len(verifications) == 1, name  # one argon2 verification each, the dummy hash for nobody
    assert verifications[0] == bob.password_hash
    unknown, wrong, suspended = answers.values()
    assert unknown == wrong == suspended
    assert unknown[0] == 401 and unknown[1]["code"] == "bad_credentials"
    assert alice.password_hash not in str(unknown)


def test_the_dummy_hash_runs_for_an_unknown_user(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, verifications: list[str]
) -> None:
    with pytest.raises(BadCredentials):
        service.login(session, session_factory, "no-such-user", PASSWORD, settings)
    assert verifications == [login_module._DUMMY_HASH]


def test_a_locked_account_and_a_locked_unknown_name_answer_alike_with_retry_after(
    client: TestClient, session: Session, settings: Settings, verifications: list[str], frozen: None
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    make_user(session, ent, Role.ENTERPRISE_ADMIN, username="carol-known")
    session.commit()
    for name in ("carol-known", "carol-unknown"):
        for _ in range(settings.login_max_failures):
            assert _post(client, name, "Wrong-Password-1x")[0] == 401
    verifications.clear()
    known = _post(client, "carol-known", PASSWORD)  # even the right password: locked
    assert len(verifications) == 1
    unknown = _post(client, "carol-unknown", PASSWORD)
    assert len(verifications) == 2
    assert known == unknown
    status, body, headers = known
    wait = settings.login_lockout_minutes * 60
    assert (status, body["code"], body["retry_after"]) == (429, "account_locked", wait)
    assert headers["retry-after"] == str(wait)
    assert body["detail"].startswith("请于 08:45 UTC 后重试")


def test_lockout_ends_and_a_success_clears_the_count(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    make_user(session, ent, Role.ENTERPRISE_ADMIN, username="dave-known")
    session.commit()  # a failed login ends the caller's transaction
    now = [NOW]
    monkeypatch.setattr(login_module, "utcnow", lambda: now[0])
    for _ in range(settings.login_max_failures):
        with pytest.raises(BadCredentials):
            service.login(session, session_factory, "dave-known", "Wrong-Password-1x", settings)
    with pytest.raises(AccountLocked) as locked:
        service.login(session, session_factory, "dave-known", PASSWORD, settings)
    assert locked.value.headers() == {"Retry-After": str(settings.login_lockout_minutes * 60)}
    now[0] = NOW + dt.timedelta(minutes=settings.login_lockout_minutes, seconds=1)
    session.expire_all()
    assert service.login(session, session_factory, "dave-known", PASSWORD, settings).access_token
    for _ in range(settings.login_max_failures - 1):  # the success started the count again
        with pytest.raises(BadCredentials):
            service.login(session, session_factory, "dave-known", "Wrong-Password-1x", settings)
    session.expire_all()
    assert service.login(session, session_factory, "dave-known", PASSWORD, settings).access_token


def test_an_address_spraying_unknown_usernames_is_throttled(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path, verifications: list[str]
) -> None:
    settings = load_settings(data_dir=tmp_path / "d", login_address_max_failures=4)
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    session.commit()  # a failed login ends the caller's transaction
    for n in range(4):  # four different names: no username reaches its own limit
        with pytest.raises(BadCredentials):
            service.login(session, session_factory, f"spray{n}", PASSWORD, settings, "203.0.113.9")
    verifications.clear()
    with pytest.raises(LoginThrottled) as throttled:
        service.login(session, session_factory, user.username, PASSWORD, settings, "203.0.113.9")
    assert not verifications  # refused before any password is checked
    wait = settings.login_address_window_minutes * 60
    assert throttled.value.status == 429 and 0 < int(throttled.value.headers()["Retry-After"]) <= wait
    # another address is not affected
    assert service.login(session, session_factory, user.username, PASSWORD, settings, "198.51.100.7")


@pytest.fixture
def strict_client(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path / "strict", login_address_max_failures=3)
    with TestClient(create_app(settings, factory=session_factory)) as c:
        yield c


def test_the_address_throttle_answers_429_with_retry_after(strict_client: TestClient) -> None:
    for n in range(3):
        assert _post(strict_client, f"spray{n}", PASSWORD)[0] == 401
    status, body, headers = _post(strict_client, "spray-more", PASSWORD)
    assert (status, body["code"]) == (429, "login_throttled")
    assert headers["content-type"] == "application/problem+json"
    assert 0 < int(headers["retry-after"]) <= 15 * 60 and body["retry_after"] == int(headers["retry-after"])
