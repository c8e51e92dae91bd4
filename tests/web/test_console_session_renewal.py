"""Sliding console sessions across requests: a page asked for near the token's expiry answers with a renewed
token (same session id and login time, a later expiry), forms rendered before the renewal still post after
it; an expired, revoked or locked session is not renewed, and no renewal outlives the session's maximum."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.party import service as party
from jinyu.party.models import User
from jinyu.party.schemas import Revocation
from jinyu.party.service import logins
from jinyu.party.service.sessions import renewed_expiry
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login, csrf_of

MINUTE = 60


@pytest.fixture
def analyst(session: Session) -> User:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    session.commit()
    return user


def _login_minutes_ago(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, username: str, minutes: int
) -> dict[str, Any]:
    """Log in through the form as if it had been `minutes` ago (the token's iat and exp are that much older)."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    with monkeypatch.context() as m:
        m.setattr(logins, "utcnow", lambda: then)
        console_login(client, username)
    return _claims(client.cookies["jinyu_session"])


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _session_cookies(resp: Any) -> list[str]:
    return [c for c in resp.headers.get_list("set-cookie") if c.startswith("jinyu_session=")]


def _renewals(session: Session, user_id: str) -> int:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.session_renewed")).all()
    found = sum(1 for r in rows if json.loads(r.subject_ids) == [user_id])
    session.rollback()  # SQLite: a transaction left open here would hold the app's next request
    return found


def test_expiry_of_a_renewal_by_hand() -> None:
    """ttl 60 min, window 15 min, maximum 720 min; a token issued at 6_400 s expiring at 10_000 s."""
    settings = Settings.model_construct(
        token_ttl_minutes=60, session_renew_minutes=15, session_max_minutes=720
    )
    claims = {"iat": 6_400, "exp": 10_000, "auth_time": 6_400}
    assert renewed_expiry(claims, settings, 9_000) is None  # 1 000 s left > 900 s: not yet
    assert renewed_expiry(claims, settings, 9_100) == 9_100 + 3_600  # 900 s left: renewed for the ttl
    # the login was 700 min before: at most 720 min after it, i.e. 6_400 + 43_200 = 49_600
    late = {"iat": 46_000, "exp": 49_500, "auth_time": 6_400}
    assert renewed_expiry(late, settings, 49_000) == 49_600
    # a renewal that would not last longer than the token already does is none
    assert renewed_expiry({"iat": 46_000, "exp": 49_700, "auth_time": 6_400}, settings, 49_000) is None
    # tokens from before sessions had a login time: their iat stands for it
    assert renewed_expiry({"iat": 6_400, "exp": 10_000}, settings, 9_500) == 13_100


def test_a_session_near_its_expiry_is_renewed_and_goes_on(
    client: TestClient, session: Session, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _login_minutes_ago(client, monkeypatch, analyst.username, 50)  # 10 minutes left
    page = client.get("/console/audit")
    assert page.status_code == 200
    (cookie,) = _session_cookies(page)
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    renewed = _claims(client.cookies["jinyu_session"])
    now = int(dt.datetime.now(dt.UTC).timestamp())
    assert abs(renewed["exp"] - (now + 60 * MINUTE)) <= 5  # a full lifetime from now
    assert renewed["sid"] == first["sid"] and renewed["auth_time"] == first["auth_time"]
    assert renewed["cv"] == first["cv"] and renewed["jti"] != first["jti"]
    assert _renewals(session, analyst.id) == 1
    # the next pages use the new token, which is not due: no further renewal
    again = client.get("/console")
    assert again.status_code == 200 and not _session_cookies(again)
    assert _renewals(session, analyst.id) == 1
    # the form of the page rendered with the old token posts with the new one (CSRF binds the session id)
    out = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert any("max-age=0" in c.lower() or "expires=" in c.lower() for c in _session_cookies(out))
    assert "jinyu_session" not in client.cookies


def test_a_fresh_session_is_not_renewed(client: TestClient, session: Session, analyst: User) -> None:
    console_login(client, analyst.username)
    resp = client.get("/console")
    assert resp.status_code == 200 and not _session_cookies(resp)
    assert _renewals(session, analyst.id) == 0


def test_an_expired_session_still_ends(
    client: TestClient, session: Session, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login_minutes_ago(client, monkeypatch, analyst.username, 61)
    resp = client.get("/console", follow_redirects=False)
    assert resp.status_code == 303 and "expired=1" in resp.headers["location"]
    assert not _session_cookies(resp) and _renewals(session, analyst.id) == 0


def test_a_revoked_session_ends_renewed_or_not(
    client: TestClient, session: Session, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login_minutes_ago(client, monkeypatch, analyst.username, 50)
    assert _session_cookies(client.get("/console"))  # renewed
    user = session.get(User, analyst.id)
    assert user is not None
    me = party.principal_for_user(session, user)
    party.revoke_user_tokens(session, me, analyst.id, Revocation(reason="电脑遗失 / laptop lost"))
    session.commit()
    resp = client.get("/console", follow_redirects=False)
    assert resp.status_code == 303 and "expired=1" in resp.headers["location"]
    assert not _session_cookies(resp) and _renewals(session, analyst.id) == 1


def test_a_locked_username_keeps_its_session_but_gets_no_renewal(
    client: TestClient, session: Session, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login_minutes_ago(client, monkeypatch, analyst.username, 50)
    for _ in range(3):  # the settings' login_max_failures: someone guesses this user's password
        bad = {"username": analyst.username, "password": "wrong-password-1"}
        client.post("/api/v1/auth/token", data=bad)
    resp = client.get("/console")
    assert resp.status_code == 200 and not _session_cookies(resp)  # open until its token expires
    assert _renewals(session, analyst.id) == 0


def test_no_renewal_outlives_the_session_maximum(
    client: TestClient, session: Session, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Any = client.app
    base: Settings = app.state.settings
    first = _login_minutes_ago(client, monkeypatch, analyst.username, 50)
    app.state.settings = base.model_copy(update={"session_max_minutes": 55})  # would end before exp
    assert not _session_cookies(client.get("/console"))
    app.state.settings = base.model_copy(update={"session_max_minutes": 70})
    assert _session_cookies(client.get("/console"))
    renewed = _claims(client.cookies["jinyu_session"])
    assert renewed["exp"] == first["auth_time"] + 70 * MINUTE  # cut at the maximum, not a full lifetime
    assert _renewals(session, analyst.id) == 1
