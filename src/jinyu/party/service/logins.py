"""Password login: the same work and the same answer whether or not the username exists.

Every attempt runs exactly one argon2 verification (the user's hash, or a dummy one for an unknown name), and
failures are counted per username — known or not — and per client address in `login_throttles`, each in a
transaction of its own so that they survive the request's rollback. A username with too many failures is
locked for a while (429 with Retry-After, the same for a name that does not exist); an address with too many
failures is refused before any password is checked, so unknown usernames cannot be sprayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service as audit
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Principal
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import transaction
from jinyu.party import repository as repo
from jinyu.party.errors import AccountLocked, BadCredentials, LoginThrottled
from jinyu.party.models import LoginThrottle, User
from jinyu.party.rules import Throttle, after_failure, retry_after_seconds
from jinyu.party.schemas import TokenOut
from jinyu.party.service.identity import hasher, issue_token, principal_for_user

log = logging.getLogger("jinyu.party.login")
# Verified against when the username is unknown, so that such an attempt costs what a wrong password costs.
_DUMMY_HASH = hasher.hash("jinyu-no-such-user")


def username_key(username: str) -> str:
    return hashlib.sha256(f"user:{username}".encode()).hexdigest()


def address_key(address: str) -> str:
    return hashlib.sha256(f"addr:{address}".encode()).hexdigest()


def login(
    session: Session,
    factory: sessionmaker[Session],
    username: str,
    password: str,
    settings: Settings,
    client_address: str | None = None,
) -> TokenOut:
    """Check a password and issue a token; see the module's docstring for what a failure costs and says.
    A failure ends (rolls back) `session`'s transaction before it is recorded: the boundary would roll it back
    anyway, and the records must not wait on it."""
    now = utcnow()
    addr = address_key(client_address) if client_address else None
    if addr is not None:
        wait = _locked_for(session, addr, now)
        if wait is not None:
            _fail(session, factory, None, username, "address_throttled")
            raise LoginThrottled(extra={"retry_after": wait})
    user = repo.get_user_by_username(session, username)
    matches = _verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    name = username_key(username)
    wait = _locked_for(session, name, now)
    if wait is not None:
        _fail(session, factory, user, username, "locked")
        _count_failures(factory, settings, now, None, addr)
        until = now + dt.timedelta(seconds=wait)
        raise AccountLocked(
            detail=f"请于 {until:%H:%M} UTC 后重试 / retry after that time", extra={"retry_after": wait}
        )
    if user is None or not user.active or not matches:
        _fail(session, factory, user, username, "bad_credentials")
        _count_failures(factory, settings, now, name, addr)
        raise BadCredentials()
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == name))
    user.last_login_at = now
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    audit.record(
        session,
        principal_for_user(session, user),
        action="auth.login",
        subject_type="user",
        subject_ids=[user.id],
    )
    return issue_token(user, settings, now)


def username_locked(session: Session, username: str, now: dt.datetime) -> bool:
    """The username is locked after failed logins (as a login now would be refused)."""
    return _locked_for(session, username_key(username), now) is not None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked_for(session: Session, key: str, now: dt.datetime) -> int | None:
    row = session.get(LoginThrottle, key)
    return None if row is None else retry_after_seconds(_aware(row.locked_until), now)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


def _count_failures(
    factory: sessionmaker[Session], settings: Settings, now: dt.datetime, name: str | None, addr: str | None
) -> None:
    """One more failure for the username's key and the address's, in a transaction of its own. Keys are
    locked in a fixed order, so that two failures never wait on each other's rows."""
    limits: dict[str, tuple[int, dt.timedelta, dt.timedelta]] = {}
    if name is not None:
        lockout = dt.timedelta(minutes=settings.login_lockout_minutes)
        limits[name] = (settings.login_max_failures, lockout, lockout)
    if addr is not None:
        window = dt.timedelta(minutes=settings.login_address_window_minutes)
        limits[addr] = (settings.login_address_max_failures, window, window)
    if not limits:
        return
    for attempt in range(2):  # a first failure of two racing requests: one inserts, the other updates
        try:
            with transaction(factory) as s:
                for key in sorted(limits):
                    max_failures, window, lockout = limits[key]
                    _count_one(s, key, now, max_failures, window, lockout)
            break
        except IntegrityError:
            if attempt:
                raise
    _prune(factory, now)


def _count_one(
    s: Session, key: str, now: dt.datetime, max_failures: int, window: dt.timedelta, lockout: dt.timedelta
) -> None:
    row = s.get(LoginThrottle, key, with_for_update=True)
    before = (
        Throttle()
        if row is None
        else Throttle(row.failures, _aware(row.window_start), _aware(row.locked_until))
    )
    state = after_failure(before, now, max_failures, window, lockout)
    expires = max(
        state.locked_until or now, (state.window_start or now) + window, now + dt.timedelta(seconds=1)
    )
    if row is None:
        row = LoginThrottle(key=key)
        s.add(row)
    row.failures, row.window_start, row.locked_until, row.expires_at = (
        state.failures,
        state.window_start,
        state.locked_until,
        expires,
    )
    s.flush()


def _prune(factory: sessionmaker[Session], now: dt.datetime) -> None:
    """Rows whose window and lock are over are forgotten (best effort, in a transaction of its own)."""
    try:
        with transaction(factory) as s:
            s.execute(delete(LoginThrottle).where(LoginThrottle.expires_at < now))
    except Exception:  # a concurrent prune or a lock wait: the next failure prunes again
        log.warning("login throttle prune failed", exc_info=True)


def _fail(
    session: Session, factory: sessionmaker[Session], user: User | None, username: str, why: str
) -> None:
    """End the request's (read-only) transaction — the failure is recorded in transactions of their own,
    which must not wait on it nor be undone with it — then audit the failed attempt."""
    actor, subject_ids = _as_actor(user, username), [user.id] if user else []
    session.rollback()
    audit.record_outcome(
        factory,
        actor,
        action="auth.login",
        subject_type="user",
        subject_ids=subject_ids,
        outcome="failed",
        detail={"reason": why},
    )


def _as_actor(user: User | None, username: str) -> Principal:
    """The audit actor of a login attempt (the user if known, else the anonymous name tried)."""
    return Principal(
        subject_id=user.id if user else "anonymous",
        username=user.username if user else username[:64],
        org_id=user.org_id if user else "-",
        org_kind=OrgKind.OPERATOR,
        tenant_id="-",
        org_path="/-/",
        roles=frozenset(),
    )
