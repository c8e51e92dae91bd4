"""Signed checkpoints, pure: the documented line format checked with an independent Ed25519 verification, the
checks of a checkpoint file (sequence, links, signatures, key) and when a periodic one is due."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jinyu.audit import checkpoints
from jinyu.audit.checkpoints import Checkpoint
from jinyu.audit.rules import GENESIS_HASH, ChainHead

# RFC 8032, section 7.1, TEST 1: a published Ed25519 key pair.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
T0 = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def _file(*heads: tuple[int, str], key: Ed25519PrivateKey = KEY) -> list[str]:
    lines: list[str] = []
    last: Checkpoint | None = None
    for i, (seq, digest) in enumerate(heads):
        last = checkpoints.make(last, ChainHead(seq, digest), T0 + dt.timedelta(minutes=i), key)
        lines.append(last.line() + "\n")
    return lines


def _check(lines: list[str], public: Ed25519PublicKey | None = None) -> checkpoints.FileCheck:
    return checkpoints.check_file(lines, public or KEY.public_key(), "checkpoints.jsonl")


def test_key_id_is_the_sha256_of_the_raw_public_key() -> None:
    assert KEY.public_key().public_bytes_raw() == RFC8032_PUBLIC  # the library derives RFC 8032's key
    assert checkpoints.key_id(KEY.public_key()) == hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:16]


def test_a_line_is_the_documented_json_and_its_signature_verifies_independently() -> None:
    [line] = _file((7, H1))
    stored = json.loads(line)
    assert stored == {
        "v": 1,
        "n": 1,
        "seq": 7,
        "hash": H1,
        "at": "2026-12-06T02:00:00.000000+00:00",
        "prev": GENESIS_HASH,
        "key": hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:16],
        "sig": stored["sig"],
    }
    # docs/audit.md: the signed bytes are the prefix line, then the sorted compact JSON without "sig".
    unsigned = {k: v for k, v in stored.items() if k != "sig"}
    payload = (
        b"jinyu-audit-checkpoint\n" + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    )
    public = Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC)
    public.verify(base64.b64decode(stored["sig"]), payload)  # raises if not signed as documented
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(stored["sig"]), payload.replace(b'"seq":7', b'"seq":8'))


def test_each_line_links_to_the_sha256_of_the_previous_one() -> None:
    first, second = _file((3, H1), (9, H2))
    assert json.loads(second)["prev"] == hashlib.sha256(first.rstrip("\n").encode()).hexdigest()
    assert json.loads(second)["n"] == 2


def test_an_intact_file_checks_out_to_its_last_checkpoint() -> None:
    result = _check(_file((3, H1), (9, H2), (9, H3)))
    assert result.ok and result.count == 3
    assert result.last is not None and (result.last.n, result.last.seq, result.last.hash) == (3, 9, H3)
    assert _check([]).ok and _check([]).last is None


def test_a_tampered_line_fails_its_signature_naming_the_checkpoint() -> None:
    lines = _file((3, H1), (9, H2), (12, H3))
    lines[1] = lines[1].replace('"seq":9', '"seq":10')

    result = _check(lines)

    assert not result.ok and result.problem is not None
    assert "checkpoint #2 (line 2)" in result.problem and "signature invalid" in result.problem
    assert result.last is not None and result.last.n == 1


def test_a_removed_checkpoint_breaks_the_sequence() -> None:
    lines = _file((3, H1), (9, H2), (12, H3))
    del lines[1]

    result = _check(lines)

    assert result.problem is not None and "checkpoint #3 (line 2)" in result.problem
    assert "out of sequence, expected #2" in result.problem


def test_a_line_copied_from_elsewhere_does_not_link() -> None:
    ours = _file((3, H1), (9, H2))
    theirs = _file((3, H3), (9, H2))  # validly signed, same key, another chain

    result = _check([ours[0], theirs[1]])

    assert result.problem is not None and "does not link to the previous checkpoint" in result.problem


def test_a_wrong_key_fails() -> None:
    other = Ed25519PrivateKey.generate()

    signed_elsewhere = _check(_file((3, H1), key=other))
    assert signed_elsewhere.problem is not None and "signed by another key" in signed_elsewhere.problem

    # A forger who also rewrites the key fingerprint still cannot make the signature verify.
    line = json.loads(_file((3, H1), key=other)[0])
    line["key"] = checkpoints.key_id(KEY.public_key())
    forged = _check([json.dumps(line)])
    assert forged.problem is not None and "signature invalid" in forged.problem


def test_no_public_key_refuses_any_checkpoint() -> None:
    result = checkpoints.check_file(_file((3, H1)), None, "checkpoints.jsonl")
    assert result.problem is not None and "no public key" in result.problem


@pytest.mark.parametrize(
    "line",
    ["not json", "{}", '{"v": 2}', json.dumps({"v": 1, "n": "1"})],
)
def test_a_line_that_is_no_checkpoint_is_named(line: str) -> None:
    result = _check([*_file((3, H1)), line + "\n"])
    assert (
        result.problem is not None
        and "line 2" in result.problem
        and "not a valid checkpoint" in result.problem
    )


def test_going_backwards_is_refused() -> None:
    first = checkpoints.make(None, ChainHead(9, H1), T0, KEY)
    back = checkpoints.make(first, ChainHead(5, H2), T0 + dt.timedelta(minutes=1), KEY)
    result = _check([first.line(), back.line()])
    assert result.problem is not None and "goes backwards" in result.problem


def test_chain_against_a_checkpoint() -> None:
    cp = checkpoints.make(None, ChainHead(9, H1), T0, KEY)
    assert checkpoints.chain_shorter(cp, ChainHead(9, H1)) is None
    assert checkpoints.chain_shorter(cp, ChainHead(12, H2)) is None
    shorter = checkpoints.chain_shorter(cp, ChainHead(7, H2))
    assert shorter is not None and "shorter than signed checkpoint #1" in shorter and "seq 9" in shorter
    assert checkpoints.chain_shorter(cp, None) is not None
    assert checkpoints.chain_differs(cp, H1) is None
    differs = checkpoints.chain_differs(cp, H2)
    assert differs is not None and "entry seq 9 differs from signed checkpoint #1" in differs


@pytest.mark.parametrize(
    ("last_seq", "head_seq", "minutes", "every", "seconds", "due"),
    [
        (None, 0, 60, 10, 60, False),  # nothing to pin
        (10, 10, 60, 10, 60, False),  # the head did not move
        (10, 19, 0, 10, 600, False),  # 9 new entries, not long enough
        (10, 20, 0, 10, 600, True),  # 10 new entries
        (10, 11, 10, 10, 600, True),  # one new entry, 600 s later
        (10, 11, 9, 10, 600, False),
        (10, 500, 60, 0, 0, False),  # both triggers off
        (None, 1, 10, 0, 600, True),  # first checkpoint, `since` the process started
    ],
)
def test_when_a_periodic_checkpoint_is_due(
    last_seq: int | None, head_seq: int, minutes: int, every: int, seconds: int, due: bool
) -> None:
    last = checkpoints.make(None, ChainHead(last_seq, H1), T0, KEY) if last_seq is not None else None
    now = T0 + dt.timedelta(minutes=minutes)
    assert checkpoints.due(last, ChainHead(head_seq, H2), now, every=every, seconds=seconds, since=T0) is due
