"""Bearer tokens seen before, kept per process: the next request with the same token skips the signature check
and the ORM loads of its user and organisation, and reads only what can revoke it.

Revocation stays immediate in every process (docs/security.md, "Token revocation"): each request still reads
the user's row — one primary-key SELECT of the columns the principal depends on — and a token is refused as
soon as the user is suspended or its credential version has moved, whichever process or command made the
change. Nothing about the user is trusted from the cache without that read; what the cache keeps is what does
not change for a token's life: its signature was valid, its expiry and credential version, and the
organisation's kind, tenant and path (set when the organisation is created; organisations are never moved or
deleted).

An entry is keyed by a digest of the signing key and the token (never the token itself): a new signing key
makes every earlier entry unreachable, as it makes every earlier token's signature fail.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from jinyu.core.auth import Principal
from jinyu.party.errors import InvalidToken
from jinyu.party.models import User

_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Known:
    """A token whose signature, issuer and expiry held, and the principal its user resolved to then."""

    expires: float  # the "exp" claim, seconds since the epoch
    version: int  # the "cv" claim
    username: str
    roles: tuple[str, ...]
    org_id: str
    principal: Principal


_cache: dict[str, Known] = {}
_lock = threading.Lock()

# The user's columns the principal is made of, read on every request (built once: one statement per request).
_USER_NOW = select(User.active, User.credential_version, User.username, User.roles, User.org_id).where(
    User.id == bindparam("user_id")
)


def digest(token: str, signing_key: bytes) -> str:
    return hashlib.sha256(signing_key + b"\x00" + token.encode()).hexdigest()


def remember(key: str, known: Known) -> None:
    with _lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = known


def forget_tokens() -> None:
    """Drop every entry (tests; nothing needs it for revocation, which is read from the database)."""
    with _lock:
        _cache.clear()


def unchecked(key: str) -> Known | None:
    """A token seen before and not expired, as it was then — not checked against the database: whatever is
    decided on it must be checked with `cached_principal` before any work is done for the caller."""
    with _lock:
        known = _cache.get(key)
    # PyJWT refuses a token once now >= exp (no leeway): so does the cache.
    if known is None or time.time() >= known.expires:
        return None
    return known


def cached_principal(session: Session, key: str) -> Principal | None:
    """The principal of a token seen before, after checking its user's row now: None when the token is not
    known here or has expired (the caller checks it in full); InvalidToken when its user is suspended or gone
    or its credential version has moved (the same answers as the full check)."""
    known = unchecked(key)
    if known is None:
        return None
    row = session.execute(_USER_NOW, {"user_id": known.principal.subject_id}).one_or_none()
    if row is None or not row.active:
        raise InvalidToken(detail="用户已停用 / user is disabled")
    if row.credential_version != known.version:
        raise InvalidToken(detail="令牌已撤销 / token revoked")
    if (row.username, tuple(row.roles), row.org_id) != (known.username, known.roles, known.org_id):
        return None  # the user's row says something else now: resolve it in full
    return known.principal
