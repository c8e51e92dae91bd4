"""Authentication: password login (argon2) issuing signed bearer tokens; API keys for service accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import threading
from time import monotonic

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service as audit
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import new_id
from jinyu.party import repository as repo
from jinyu.party.errors import AccountLocked, BadCredentials, InvalidToken, UserNotFound
from jinyu.party.models import ServiceAccount, User
from jinyu.party.rules import lockout_until
from jinyu.party.schemas import TokenOut

# OWASP's minimum argon2id profile: 19 MiB, 2 passes. Keeps login well under 100 ms on 2 cores.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = hasher.hash("jinyu-no-such-user")
ALGORITHM = "HS256"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def _principal(
    subject_id: str, username: str, roles: list[str], org_id: str, session: Session, is_service: bool
) -> Principal:
    org = repo.get_org_unscoped(session, org_id)
    if org is None:
        raise InvalidToken(detail="机构已不存在 / organisation no longer exists")
    return Principal(
        subject_id=subject_id,
        username=username,
        org_id=org.id,
        org_kind=OrgKind(org.kind),
        tenant_id=org.tenant_id,
        org_path=org.path,
        roles=frozenset(Role(r) for r in roles),
        is_service=is_service,
    )


def principal_for_user(session: Session, user: User) -> Principal:
    return _principal(user.id, user.username, user.roles, user.org_id, session, is_service=False)


def _as_actor(user: User | None, username: str) -> Principal:
    """The audit actor of a login attempt (the user if known, else the anonymous name tried)."""
    if user is None:
        return Principal(
            subject_id="anonymous",
            username=username[:64],
            org_id="-",
            org_kind=OrgKind.OPERATOR,
            tenant_id="-",
            org_path="/-/",
            roles=frozenset(),
        )
    return Principal(
        subject_id=user.id,
        username=user.username,
        org_id=user.org_id,
        org_kind=OrgKind.OPERATOR,
        tenant_id="-",
        org_path="/-/",
        roles=frozenset(),
    )


def login(
    session: Session, factory: sessionmaker[Session], username: str, password: str, settings: Settings
) -> TokenOut:
    """Check a password and issue a token. Failures are counted and audited in their own transaction,
    so they survive the request's rollback; enough of them lock the account for a while."""
    now = utcnow()
    user = _look_up(factory, username)
    if user is not None and user.locked_until is not None and as_utc(user.locked_until) > now:
        _record_failure(factory, user, username, "locked")
        raise AccountLocked(
            detail=f"请于 {as_utc(user.locked_until):%H:%M} UTC 后重试 / retry after that time"
        )
    if user is None or not user.active or not _verify(user.password_hash if user else _DUMMY_HASH, password):
        if user is not None:
            _count_failure(factory, user.id, now, settings)
        _record_failure(factory, user, username, "bad_credentials")
        raise BadCredentials()
    user = repo.get_user(session, user.id) or user
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    audit.record(
        session,
        principal_for_user(session, user),
        action="auth.login",
        subject_type="user",
        subject_ids=[user.id],
    )
    return _issue_token(user, settings, now)


def _look_up(factory: sessionmaker[Session], username: str) -> User | None:
    """The user, read in a short transaction of its own: a failed login is then written in transactions of their
    own while the request's has not begun. On SQLite a transaction holds the write lock from its start, so a
    request transaction left open meanwhile would make those writes wait on it."""
    with factory() as probe:
        return repo.get_user_by_username(probe, username)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(
    factory: sessionmaker[Session], user_id: str, now: dt.datetime, settings: Settings
) -> None:
    with factory() as s, s.begin():
        user = s.get(User, user_id, with_for_update=True)
        if user is None:
            return
        user.failed_logins += 1
        lockout = dt.timedelta(minutes=settings.login_lockout_minutes)
        user.locked_until = lockout_until(user.failed_logins, now, settings.login_max_failures, lockout)
        if user.locked_until is not None:
            user.failed_logins = 0


def _record_failure(factory: sessionmaker[Session], user: User | None, username: str, why: str) -> None:
    audit.record_outcome(
        factory,
        _as_actor(user, username),
        action="auth.login",
        subject_type="user",
        subject_ids=[user.id] if user else [],
        outcome="failed",
        detail={"reason": why},
    )


def _issue_token(user: User, settings: Settings, now: dt.datetime) -> TokenOut:
    ttl = settings.token_ttl_minutes * 60
    claims = {
        "sub": user.id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "jti": new_id(),
        "iss": "jinyu",
    }
    token = jwt.encode(claims, settings.key("signing_key"), algorithm=ALGORITHM)
    return TokenOut(access_token=token, expires_in=ttl)


def authenticate_token(session: Session, token: str, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.key("signing_key"),
            algorithms=[ALGORITHM],
            issuer="jinyu",
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError:
        raise InvalidToken() from None
    user = repo.get_user(session, str(claims["sub"]))
    if user is None or not user.active:
        raise InvalidToken(detail="用户已停用 / user is disabled")
    return principal_for_user(session, user)


def hash_api_secret(secret: str) -> str:
    # API keys are 256-bit random: a plain SHA-256 suffices and keeps per-request checks cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


# A hospital system sends its API key with every settlement. The principal it resolves to is kept per process
# for API_KEY_CACHE_SECONDS, keyed by the key's SHA-256 (never the key): a key deactivated in the database stops
# working here within that time. `forget_api_keys()` drops the cache at once.
# A key in steady use is re-checked before its entry expires: a use once the entry's refresh is due claims it
# (`api_key_refresh_due`) and the web layer runs `refresh_api_key` in the background, so a busy system's
# requests do not wait for the database when their entry would have run out. The refresh falls due at a random
# point of API_KEY_REFRESH_SECONDS after each check, so that keys first seen together (after a restart) are not
# all re-checked at once: with 200 hospitals at 300 settlements/s, the keys' re-checks every 30 s, all at the
# same moment, took p99 from 31 to 52–56 ms.
API_KEY_CACHE_SECONDS = 30.0
API_KEY_REFRESH_SECONDS = (10.0, 25.0)
_KEY_CACHE_MAX = 10_000
_key_cache: dict[str, tuple[float, Principal, float]] = {}  # digest -> (checked at, principal, refresh at)
_key_refreshing: set[str] = set()
_key_cache_lock = threading.Lock()


def forget_api_keys() -> None:
    with _key_cache_lock:
        _key_cache.clear()
        _key_refreshing.clear()


def cached_api_key_principal(api_key: str) -> Principal | None:
    """The principal of an API key checked in the last API_KEY_CACHE_SECONDS, if any (no database)."""
    with _key_cache_lock:
        cached = _key_cache.get(hash_api_secret(api_key))
    if cached is not None and monotonic() < cached[0] + API_KEY_CACHE_SECONDS:
        return cached[1]
    return None


def api_key_refresh_due(api_key: str) -> bool:
    """True, once per entry, when a cached key's refresh is due (and the entry has not expired): the caller
    must then run `refresh_api_key` (in the background)."""
    digest = hash_api_secret(api_key)
    with _key_cache_lock:
        cached = _key_cache.get(digest)
        if cached is None or digest in _key_refreshing:
            return False
        now = monotonic()
        if not cached[2] <= now < cached[0] + API_KEY_CACHE_SECONDS:
            return False
        _key_refreshing.add(digest)
        return True


def refresh_api_key(session: Session, api_key: str) -> None:
    """Check a cached key against the database again: its entry renewed, or dropped when the key no longer
    works (the next request is refused). Other errors leave the entry to expire as it would have."""
    digest = hash_api_secret(api_key)
    try:
        _remember(digest, _authenticate_api_key(session, api_key))
    except InvalidToken:
        with _key_cache_lock:
            _key_cache.pop(digest, None)
    finally:
        with _key_cache_lock:
            _key_refreshing.discard(digest)


def authenticate_api_key(session: Session, api_key: str) -> Principal:
    known = cached_api_key_principal(api_key)
    if known is not None:
        return known
    principal = _authenticate_api_key(session, api_key)
    _remember(hash_api_secret(api_key), principal)
    return principal


def _remember(digest: str, principal: Principal) -> None:
    with _key_cache_lock:
        if len(_key_cache) >= _KEY_CACHE_MAX:
            _key_cache.clear()
        now = monotonic()
        _key_cache[digest] = (now, principal, now + random.uniform(*API_KEY_REFRESH_SECONDS))
        _key_refreshing.discard(digest)  # checked just now: a refresh may be claimed again in time


def _authenticate_api_key(session: Session, api_key: str) -> Principal:
    prefix, _, secret = api_key.partition(".")
    account = repo.get_service_account_by_prefix(session, prefix) if secret else None
    if account is None or not account.active:
        raise InvalidToken(detail="API key 无效 / invalid API key")
    if not hmac.compare_digest(account.key_hash, hash_api_secret(secret)):
        raise InvalidToken(detail="API key 无效 / invalid API key")
    # Touch last_used_at at most once a minute: every request of a busy hospital system uses the same row,
    # and an update per request would make them queue on its lock.
    now = utcnow()
    if account.last_used_at is None or now - as_utc(account.last_used_at) > LAST_USED_RESOLUTION:
        account.last_used_at = now
    return _service_principal(session, account)


def _service_principal(session: Session, account: ServiceAccount) -> Principal:
    return _principal(
        account.id, f"svc:{account.name}", account.roles, account.org_id, session, is_service=True
    )


__all__ = [
    "SYSTEM",
    "api_key_refresh_due",
    "authenticate_api_key",
    "authenticate_token",
    "cached_api_key_principal",
    "forget_api_keys",
    "hash_password",
    "login",
    "refresh_api_key",
]


def principal_for_username(session: Session, username: str) -> Principal:
    """A console command acting as a real, active user (never as the system): who that user is, with roles."""
    user = repo.get_user_by_username(session, username)
    if user is None or not user.active:
        raise UserNotFound(detail=username)
    return principal_for_user(session, user)
