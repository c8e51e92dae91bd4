"""Keyed pseudonymization and display masking of personal and sensitive identifiers."""

from __future__ import annotations

import hashlib
import hmac

# Token spaces: a person's resident ID is pseudonymized in the "person" space everywhere (ingestion,
# registration, claims), so the same person joins across datasets without the raw number.
PERSON_DOMAIN = "person"
ACCOUNT_DOMAIN = "account"
# Phones (mobile or landline) are tokenized in a space of their own: equal numbers join, nothing else does.
PHONE_DOMAIN = "phone"


def pseudonymize(key: bytes, value: str, domain: str = "") -> str:
    """HMAC-SHA256 token of an identifier; joinable across datasets, not reversible without the key.

    `domain` separates token spaces (a person's ID and an account number never collide)."""
    digest = hmac.new(key, f"{domain}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return f"pt_{digest[:32]}"


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
