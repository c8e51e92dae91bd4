"""How a card snapshot is fingerprinted (pure; docs/credit-card.md, "Snapshots").

Each section is hashed with a random salt of its own: SHA-256 over `salt || canonical JSON of the section`.
The snapshot's hash is SHA-256 over the canonical JSON of {format, uscc, version, section hashes}. A bank is
given the salts of the sections it may see only, so it can check those sections against the snapshot hash
without being able to test guesses about the sections it may not see (a "no penalties" section is short
enough to guess; without its salt its hash tells nothing).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any


def canonical(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces: one byte string per value."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def new_salts(names: tuple[str, ...]) -> dict[str, str]:
    return {name: secrets.token_hex(16) for name in names}


def section_hash(salt: str, section_bytes: bytes) -> str:
    """`section_bytes`: the section's canonical JSON (computed once per section, for this and `content_key`)."""
    return hashlib.sha256(bytes.fromhex(salt) + section_bytes).hexdigest()


def snapshot_hash(card_format: str, uscc: str, version: int, section_hashes: Mapping[str, str]) -> str:
    header = {"format": card_format, "uscc": uscc, "version": version, "sections": dict(section_hashes)}
    return hashlib.sha256(canonical(header)).hexdigest()


def content_key(section_bytes: Mapping[str, bytes]) -> str:
    """Unsalted fingerprint of the sections' canonical JSON, kept server-side only: tells whether a card
    changed since the last snapshot (then the last version is reused)."""
    digest = hashlib.sha256()
    for name in sorted(section_bytes):
        digest.update(name.encode() + b"\x00" + section_bytes[name] + b"\x00")
    return digest.hexdigest()


def section_bytes(sections: Mapping[str, Any]) -> dict[str, bytes]:
    return {name: canonical(section) for name, section in sections.items()}
