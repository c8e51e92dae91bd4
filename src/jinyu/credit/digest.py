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
    """16 random bytes per name, as hex: drawn from the OS in one call per card (the batch makes 6 per card)."""
    pool = secrets.token_hex(16 * len(names))
    return {name: pool[32 * i : 32 * i + 32] for i, name in enumerate(names)}


def section_hash(salt: str, section_bytes: bytes) -> str:
    """`section_bytes`: the section's canonical JSON (computed once per section, for this and `content_key`)."""
    digest = hashlib.sha256(bytes.fromhex(salt))
    digest.update(section_bytes)  # not `salt + section`: no copy of the section's bytes
    return digest.hexdigest()


def snapshot_hash(card_format: str, uscc: str, version: int, section_hashes: Mapping[str, str]) -> str:
    """SHA-256 of `canonical({"format", "uscc", "version", "sections"})`, the JSON written out directly: the
    section names are identifiers and the hashes hex (nothing to escape); the two free strings go through
    json.dumps. `tests/credit/test_digest.py` checks it against `canonical` of the header."""
    if not all(name.isascii() and name.isidentifier() for name in section_hashes):
        header_value = {
            "format": card_format,
            "uscc": uscc,
            "version": version,
            "sections": dict(section_hashes),
        }
        return hashlib.sha256(canonical(header_value)).hexdigest()
    sections = ",".join(f'"{name}":"{section_hashes[name]}"' for name in sorted(section_hashes))
    header = (
        f'{{"format":{_string(card_format)},"sections":{{{sections}}},'
        f'"uscc":{_string(uscc)},"version":{int(version)}}}'
    )
    return hashlib.sha256(header.encode("utf-8")).hexdigest()


def _string(value: str) -> str:
    # A USCC or format is letters and digits: nothing to escape (json.dumps for anything else).
    return f'"{value}"' if value.isascii() and value.isalnum() else json.dumps(value, ensure_ascii=False)


def content_key(section_bytes: Mapping[str, bytes]) -> str:
    """Unsalted fingerprint of the sections' canonical JSON, kept server-side only: tells whether a card
    changed since the last snapshot (then the last version is reused)."""
    digest = hashlib.sha256()
    for name in sorted(section_bytes):
        digest.update(name.encode() + b"\x00" + section_bytes[name] + b"\x00")
    return digest.hexdigest()


def section_bytes(sections: Mapping[str, Any]) -> dict[str, bytes]:
    return {name: canonical(section) for name, section in sections.items()}
