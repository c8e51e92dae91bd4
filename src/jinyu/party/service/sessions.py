"""Sliding console sessions: a session whose token is near its expiry gets a new one while it is in use.

A browser session lasts as long as the console is used, not a fixed JINYU_TOKEN_TTL_MINUTES after the login,
and never longer than JINYU_SESSION_MAX_MINUTES after it (the password is asked again then). A renewal is only
ever of a token that still authenticates (signature, expiry, active user, current credential version), so an
expired, revoked or suspended session still ends; and none is given while the username is locked after
failed logins (someone may be guessing the password of a user whose session is open: it is not extended).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service as audit
from jinyu.config import Settings
from jinyu.core.clock import utcnow
from jinyu.party import repository as repo
from jinyu.party.schemas import TokenOut
from jinyu.party.service.identity import issue_token, principal_for_user, token_claims
from jinyu.party.service.logins import username_locked


def renewed_expiry(claims: dict[str, object], settings: Settings, now: int) -> int | None:
    """When a renewed token would expire, or None if this one is not renewed yet (more than the renewal window
    left) or cannot be (the session's maximum length would not let it last longer than it already does)."""
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int) or expires - now > settings.session_renew_minutes * 60:
        return None
    started = claims.get("auth_time", issued)
    if not isinstance(started, int):
        return None
    renewed = min(now + settings.token_ttl_minutes * 60, started + settings.session_max_minutes * 60)
    return renewed if renewed > expires else None


def renew(
    session: Session, factory: sessionmaker[Session], token: str, settings: Settings
) -> TokenOut | None:
    """A new token for the session `token` belongs to when it is due (see the module), else None. Call it
    only for a token that has just authenticated. The renewal is audited (`auth.session_renewed`) in a
    transaction of its own, so that it stays recorded whatever the page then does; `session`'s transaction,
    which has only read so far, is ended first (the record must not wait on it)."""
    now = utcnow()
    claims = token_claims(token, settings)
    expires = renewed_expiry(claims, settings, int(now.timestamp()))
    if expires is None:
        return None
    user = repo.get_user(session, str(claims["sub"]))
    if user is None or username_locked(session, user.username, now):
        return None
    sid = claims.get("sid")
    fresh = issue_token(
        user,
        settings,
        now,
        session_id=sid if isinstance(sid, str) else None,
        auth_time=int(str(claims.get("auth_time", claims["iat"]))),
        expires_at=expires,
    )
    principal = principal_for_user(session, user)
    session.rollback()
    audit.record_outcome(
        factory,
        principal,
        action="auth.session_renewed",
        subject_type="user",
        subject_ids=[principal.subject_id],
        detail={"expires_at": dt.datetime.fromtimestamp(expires, dt.UTC).isoformat()},
    )
    return fresh
