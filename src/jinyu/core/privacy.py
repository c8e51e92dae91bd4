"""Keyed pseudonymization and display masking of personal and sensitive identifiers."""

from __future__ import annotations

import datetime as dt
import hmac
import re

from jinyu.core.pseudokeys import Keyring

# Token spaces: a person's resident ID is pseudonymized in the "person" space everywhere (ingestion,
# registration, claims), so the same person joins across datasets without the raw number.
PERSON_DOMAIN = "person"
ACCOUNT_DOMAIN = "account"
# Phones (mobile or landline) are tokenized in a space of their own: equal numbers join, nothing else does.
PHONE_DOMAIN = "phone"


# A key as callers hold it: the keyring, or (tests, one-off tools) one bare key, which is version 1.
Keys = bytes | Keyring

# Version 1 tokens have no version segment (they predate rotation); later ones name theirs: pt_v2_<32 hex>.
TOKEN_PATTERN = r"^pt_(?:v(?P<version>[1-9][0-9]?)_)?(?P<digest>[0-9a-f]{32})$"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


class TokenNotCurrent(ValueError):
    """A token of a version this keyring cannot translate (unknown, newer, or past its grace period).

    `reason` says which, for answers per token: `not_a_token`, `unknown_version` (newer than the ring's
    current version, e.g. one being rolled out) or `expired` (then `expired_on`: when its grace period ended)."""

    def __init__(self, message: str, reason: str, expired_on: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.expired_on = expired_on


def as_keyring(keys: Keys) -> Keyring:
    return keys if isinstance(keys, Keyring) else Keyring({1: keys})


def pseudonymize(key: Keys, value: str, domain: str = "") -> str:
    """HMAC-SHA256 token of an identifier in the keyring's current version; joinable, not reversible.

    `domain` separates token spaces (a person's ID and an account number never collide). A version-n token
    is version n-1's token keyed again with key n (`advance_one`): the lake can be moved to a new key from
    its tokens alone (raw identifiers are never kept), and a fresh token equals a moved one."""
    ring = as_keyring(key)
    # hmac.digest: the same HMAC-SHA256 as hmac.new(...).hexdigest(), in one C call (h-br, issue 20)
    digest = hmac.digest(ring.key(1), f"{domain}\x1f{value}".encode(), "sha256").hex()
    token = f"pt_{digest[:32]}"
    for v in range(2, ring.current + 1):  # `advance` from version 1, which this token is by construction
        token = advance_one(ring.key(v), token, v)
    return token


def token_version(token: str) -> int | None:
    """The key version a token was made with (1 for unversioned tokens), or None if it is no token."""
    m = _TOKEN_RE.match(token)
    if m is None:
        return None
    return int(m["version"]) if m["version"] else 1


def advance_one(key: bytes, token: str, version: int) -> str:
    digest = hmac.digest(key, f"rotate\x1f{token}".encode(), "sha256").hex()
    return f"pt_v{version}_{digest[:32]}"


def advance(ring: Keyring, token: str, target: int) -> str:
    """`token` carried forward to version `target`; a token already there (or no token) comes back as is."""
    version = token_version(token)
    if version is None or version >= target:
        return token
    for v in range(version + 1, target + 1):
        token = advance_one(ring.key(v), token, v)
    return token


def translate(ring: Keyring, token: str, now: dt.datetime) -> str:
    """An old token looked up during the grace period: its current-version equivalent.

    Refused when the version is newer than the ring's, or when its successor came into force more than
    `grace_days` ago (old exports stop resolving then)."""
    version = token_version(token)
    if version is None:
        raise TokenNotCurrent(f"not a token of key versions 1..{ring.current}", "not_a_token")
    if version > ring.current:
        raise TokenNotCurrent(f"not a token of key versions 1..{ring.current}", "unknown_version")
    if version < ring.current:
        since = ring.since.get(version + 1)
        if since is not None and now - since > dt.timedelta(days=ring.grace_days):
            until = since + dt.timedelta(days=ring.grace_days)
            raise TokenNotCurrent(
                f"version {version} tokens expired {ring.grace_days} days after rotation, "
                f"on {until.date().isoformat()}",
                "expired",
                until,
            )
    return advance(ring, token, ring.current)


def mask(value: str | None, keep_start: int = 3, keep_end: int = 4) -> str | None:
    """Show only the ends of an identifier: 500101********1234."""
    if value is None:
        return None
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_name(value: str | None) -> str | None:
    """Chinese personal names keep the family name: 张**."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
