"""Versioned tokens and the keyring file, against HMACs written out by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from pathlib import Path

import pytest

from jinyu.core import pseudokeys
from jinyu.core.privacy import TokenNotCurrent, advance, pseudonymize, token_version, translate
from jinyu.core.pseudokeys import Keyring, KeyringError

K1, K2, K3 = b"1" * 32, b"2" * 32, b"3" * 32
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def test_version_1_is_the_unversioned_token_of_before() -> None:
    v1 = "pt_" + _hex(K1, "person\x1f500101198506141238")
    assert pseudonymize(K1, "500101198506141238", "person") == v1
    assert pseudonymize(Keyring({1: K1}), "500101198506141238", "person") == v1
    assert token_version(v1) == 1


def test_version_n_keys_version_n_minus_1_again() -> None:
    v1 = "pt_" + _hex(K1, "account\x1f6001")
    v2 = "pt_v2_" + _hex(K2, "rotate\x1f" + v1)
    v3 = "pt_v3_" + _hex(K3, "rotate\x1f" + v2)
    ring = Keyring({1: K1, 2: K2, 3: K3}, current=3)
    assert pseudonymize(ring, "6001", "account") == v3
    assert (token_version(v2), token_version(v3), len(v3)) == (2, 3, 38)
    assert advance(ring, v1, 2) == v2 and advance(ring, v2, 3) == v3 and advance(ring, v3, 3) == v3


@pytest.mark.parametrize("value", ["pt_rep_of_borrower", "6001", "pt_v2_XYZ", "pt_" + "a" * 31, ""])
def test_what_is_not_a_token_is_left_alone(value: str) -> None:
    ring = Keyring({1: K1, 2: K2}, current=2)
    assert token_version(value) is None and advance(ring, value, 2) == value


def test_old_tokens_translate_during_the_grace_period_only() -> None:
    v1 = "pt_" + _hex(K1, "person\x1fX")
    ring = Keyring({1: K1, 2: K2}, current=2, since={2: NOW - dt.timedelta(days=90)}, grace_days=90)
    assert translate(ring, v1, NOW) == "pt_v2_" + _hex(K2, "rotate\x1f" + v1)
    with pytest.raises(TokenNotCurrent):
        translate(ring, v1, NOW + dt.timedelta(days=1))
    with pytest.raises(TokenNotCurrent):
        translate(Keyring({1: K1}), "pt_v2_" + "0" * 32, NOW)  # newer than the ring


def _private_dir(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    return keys


def test_the_keyring_file_round_trips_without_version_1(tmp_path: Path) -> None:
    keys = _private_dir(tmp_path)
    assert pseudokeys.load(keys, K1).current == 1  # no file: version 1 alone
    ring = pseudokeys.activated(pseudokeys.with_new_version(pseudokeys.load(keys, K1)), NOW)
    pseudokeys.save(keys, ring)
    text = (keys / pseudokeys.KEYRING_FILE).read_text()
    assert K1.decode() not in text and ring.key(2).decode() in text
    assert oct(os.stat(keys / pseudokeys.KEYRING_FILE).st_mode & 0o777) == "0o600"
    again = pseudokeys.load(keys, K1)
    assert (again.current, again.key(2), again.since[2]) == (2, ring.key(2), NOW)
    assert ring.key(2).decode() not in repr(again) and K1.decode() not in repr(again)


@pytest.mark.parametrize(("target", "mode"), [("file", 0o644), ("dir", 0o755)])
def test_a_readable_keyring_is_refused(tmp_path: Path, target: str, mode: int) -> None:
    keys = _private_dir(tmp_path)
    pseudokeys.save(keys, pseudokeys.with_new_version(Keyring({1: K1})))
    os.chmod(keys / pseudokeys.KEYRING_FILE if target == "file" else keys, mode)
    with pytest.raises(KeyringError, match=r"mode 0[67]00") as err:
        pseudokeys.load(keys, K1)
    assert K1.decode() not in str(err.value)
