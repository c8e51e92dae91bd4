"""Authentication: signed bearer tokens checked against the user's credential version; API keys for service
accounts, resolved through a short per-process cache. Password login itself is in `logins.py`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import threading
from time import monotonic

import jwt
from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.orm import Session

from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import new_id
from jinyu.party import repository as repo
from jinyu.party.errors import InvalidToken, UserNotFound
from jinyu.party.models import ServiceAccount, User
from jinyu.party.schemas import TokenOut
from jinyu.party.service import bearer

# OWASP's minimum argon2id profile: 19 MiB, 2 passes. Keeps login well under 100 ms on 2 cores.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
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


def issue_token(
    user: User,
    settings: Settings,
    now: dt.datetime,
    *,
    session_id: str | None = None,
    auth_time: int | None = None,
    expires_at: int | None = None,
) -> TokenOut:
    """A signed bearer token carrying the user's credential version ("cv"). A login starts a session: "sid"
    names it and "auth_time" is when its password was checked; a renewal (sessions.renew) carries both over
    and may end the token earlier than the usual lifetime (`expires_at`)."""
    issued = int(now.timestamp())
    expires = issued + settings.token_ttl_minutes * 60 if expires_at is None else expires_at
    claims = {
        "sub": user.id,
        "iat": issued,
        "exp": expires,
        "jti": new_id(),
        "iss": "jinyu",
        "cv": user.credential_version,
        "sid": session_id or new_id(),
        "auth_time": issued if auth_time is None else auth_time,
    }
    token = jwt.encode(claims, settings.key("signing_key"), algorithm=ALGORITHM)
    return TokenOut(access_token=token, expires_in=expires - issued)


def token_claims(token: str, settings: Settings) -> dict[str, object]:
    """The claims of a token whose signature, issuer and expiry hold (InvalidToken otherwise)."""
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            settings.key("signing_key"),
            algorithms=[ALGORITHM],
            issuer="jinyu",
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError:
        raise InvalidToken() from None
    return claims


def session_of(token: str) -> str:
    """The session a token belongs to, stable across its renewals: its "sid" (the token itself for tokens
    without one, or that do not decode). Not a check of the token: only a name to bind forms to."""
    try:
        sid = jwt.decode(token, options={"verify_signature": False}).get("sid")
    except jwt.PyJWTError:
        return token
    return sid if isinstance(sid, str) and sid else token


def authenticate_token(session: Session, token: str, settings: Settings) -> Principal:
    """The token's principal. A token seen before in this process is checked against its user's row alone
    (`bearer`: suspension and credential version read on every request, as here)."""
    key = bearer.digest(token, settings.key("signing_key"))
    known = bearer.cached_principal(session, key)
    if known is not None:
        return known
    claims = token_claims(token, settings)
    user = repo.get_user(session, str(claims["sub"]))
    if user is None or not user.active:
        raise InvalidToken(detail="用户已停用 / user is disabled")
    # Tokens issued before the user's last suspension, password change or token revocation carry an older
    # version (tokens from before versions existed carry none: version 0).
    version = claims.get("cv", 0)
    if not isinstance(version, int) or version != user.credential_version:
        raise InvalidToken(detail="令牌已撤销 / token revoked")
    principal = principal_for_user(session, user)
    expires = claims["exp"]
    if isinstance(expires, int | float):  # always, once decoded with "exp" required
        roles = tuple(user.roles)
        bearer.remember(
            key, bearer.Known(float(expires), version, user.username, roles, user.org_id, principal)
        )
    return principal


def unchecked_token_principal(token: str, settings: Settings) -> Principal | None:
    """The principal a token seen before in this process resolved to, not checked against the database (None
    when it is not known here or has expired): only for deciding what can be decided before the check, which
    `authenticate_token` then makes (`core.onetrip`)."""
    known = bearer.unchecked(bearer.digest(token, settings.key("signing_key")))
    return known.principal if known is not None else None


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


def forget_api_keys_of(subject_id: str) -> None:
    """Drop this process's cached keys of one service account at once."""
    with _key_cache_lock:
        for digest in [d for d, entry in _key_cache.items() if entry[1].subject_id == subject_id]:
            del _key_cache[digest]
            _key_refreshing.discard(digest)


def forget_api_keys_after_commit(session: Session, subject_id: str) -> None:
    """Drop an account's cached keys now and again once `session` commits its revocation: a request that
    re-read the account before the commit must not keep the old state cached for API_KEY_CACHE_SECONDS.
    Other processes notice within API_KEY_CACHE_SECONDS (sooner for a key in steady use: its refresh)."""
    forget_api_keys_of(subject_id)
    event.listen(session, "after_commit", lambda _s: forget_api_keys_of(subject_id), once=True)


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
    if account is None or not account.active or account.key_revoked_at is not None:
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
    "forget_api_keys_after_commit",
    "forget_api_keys_of",
    "hash_password",
    "issue_token",
    "refresh_api_key",
    "unchecked_token_principal",
]


def principal_for_username(session: Session, username: str) -> Principal:
    """A console command acting as a real, active user (never as the system): who that user is, with roles."""
    user = repo.get_user_by_username(session, username)
    if user is None or not user.active:
        raise UserNotFound(detail=username)
    return principal_for_user(session, user)
