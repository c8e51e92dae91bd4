"""The hand-written JSON of the snapshot hash's header is byte for byte `canonical` of the header (docs/credit-card.md,
"Snapshots": banks recompute it with any JSON library)."""

from __future__ import annotations

import hashlib

import pytest

from jinyu.credit import digest
from jinyu.credit.rules import CARD_FORMAT, SECTIONS


def _by_canonical(card_format: str, uscc: str, version: int, hashes: dict[str, str]) -> str:
    header = {"format": card_format, "uscc": uscc, "version": version, "sections": hashes}
    return hashlib.sha256(digest.canonical(header)).hexdigest()


@pytest.mark.parametrize(
    ("card_format", "uscc", "version"),
    [(CARD_FORMAT, "91310000MA1FL0XXXX", 1), ("1", 'odd"\\uscc\n名', 12345), ("2", "", 0)],
)
def test_snapshot_hash_is_the_canonical_header(card_format: str, uscc: str, version: int) -> None:
    hashes = {s: hashlib.sha256(s.encode()).hexdigest() for s in reversed(SECTIONS)}
    assert digest.snapshot_hash(card_format, uscc, version, hashes) == _by_canonical(
        card_format, uscc, version, hashes
    )


def test_unusual_section_names_take_the_general_path() -> None:
    hashes = {'a"b': "00", "z": "11"}
    assert digest.snapshot_hash("1", "U", 2, hashes) == _by_canonical("1", "U", 2, hashes)


def test_a_known_header_hash() -> None:
    # Hand-written bytes, hashed independently of digest's helpers.
    hashes = {"tax": "ab", "ip": "cd"}
    text = b'{"format":"1","sections":{"ip":"cd","tax":"ab"},"uscc":"U1","version":3}'
    assert digest.snapshot_hash("1", "U1", 3, hashes) == hashlib.sha256(text).hexdigest()


def test_salts_are_distinct_16_byte_hex_per_section() -> None:
    salts = digest.new_salts(SECTIONS)
    assert list(salts) == list(SECTIONS)
    assert all(len(bytes.fromhex(v)) == 16 for v in salts.values())
    assert len(set(salts.values())) == len(SECTIONS)


def test_section_hash_is_sha256_of_salt_then_section() -> None:
    salt = "00" * 15 + "ff"
    assert (
        digest.section_hash(salt, b'{"x":1}') == hashlib.sha256(bytes.fromhex(salt) + b'{"x":1}').hexdigest()
    )
