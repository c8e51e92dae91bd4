"""Signed checkpoints of the audit chain: the format, signing, and the checks of a checkpoint file.

The hash chain proves that entries were not changed in place, but someone who can write the database can
delete the newest entries and move `audit_head` back to match: what is left is a shorter chain that verifies.
A checkpoint pins the chain from outside the database: one JSON line `{n, seq, hash, at, prev, key, sig}`
saying "entry `seq` had hash `hash` at time `at`", signed with an Ed25519 key that the database does not hold,
appended to a file the database's owner cannot rewrite (see `audit.anchor` and docs/audit.md).

A checkpoint file is itself a chain: `n` counts 1, 2, 3…, `prev` is the SHA-256 of the previous line (64 zeros
for the first), `seq` and `at` never go backwards, and every line is signed. Values in, values out: no I/O.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jinyu.audit.rules import GENESIS_HASH, ChainHead, CheckpointRef

VERSION = 1
# Domain separation: a checkpoint signature can never be mistaken for a signature over anything else.
_SIGNED_PREFIX = b"jinyu-audit-checkpoint\n"
_FIELDS = ("v", "n", "seq", "hash", "at", "prev", "key")
_HEX64 = frozenset("0123456789abcdef")


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (hex of the first 8 bytes of SHA-256 of its raw form)."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    n: int
    seq: int
    hash: str
    at: dt.datetime
    prev: str
    key: str
    sig: str

    def payload(self) -> bytes:
        """The signed bytes: the prefix, then sorted-key compact JSON of every field but `sig`."""
        fields = {"v": VERSION, "n": self.n, "seq": self.seq, "hash": self.hash, "at": _iso(self.at)}
        fields |= {"prev": self.prev, "key": self.key}
        return _SIGNED_PREFIX + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        """The line as stored (no newline)."""
        fields = {"v": VERSION, "n": self.n, "seq": self.seq, "hash": self.hash, "at": _iso(self.at)}
        fields |= {"prev": self.prev, "key": self.key, "sig": self.sig}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @property
    def ref(self) -> CheckpointRef:
        return CheckpointRef(self.n, self.seq, self.hash, self.at)


def _iso(at: dt.datetime) -> str:
    utc = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return utc.isoformat(timespec="microseconds")


def line_digest(line: str) -> str:
    """What the next checkpoint's `prev` holds: SHA-256 hex of this line as stored."""
    return hashlib.sha256(line.encode()).hexdigest()


def make(last: Checkpoint | None, head: ChainHead, at: dt.datetime, key: Ed25519PrivateKey) -> Checkpoint:
    """The checkpoint after `last` pinning `head`, signed."""
    unsigned = Checkpoint(
        n=last.n + 1 if last else 1,
        seq=head.seq,
        hash=head.hash,
        at=at,
        prev=line_digest(last.line()) if last else GENESIS_HASH,
        key=key_id(key.public_key()),
        sig="",
    )
    sig = base64.b64encode(key.sign(unsigned.payload())).decode()
    return Checkpoint(**{**unsigned.__dict__, "sig": sig})


def signature_ok(cp: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(cp.sig, validate=True), cp.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


class BadLine(ValueError):
    """A line that is not a well-formed checkpoint."""


def parse(line: str) -> Checkpoint:
    try:
        raw: Any = json.loads(line)
    except ValueError:
        raise BadLine("not JSON") from None
    if not isinstance(raw, dict) or set(raw) != {*_FIELDS, "sig"} or raw["v"] != VERSION:
        raise BadLine("unexpected fields or version")
    n, seq, digest, prev = raw["n"], raw["seq"], raw["hash"], raw["prev"]
    if not (_count(n) and n >= 1 and _count(seq) and _hex64(digest) and _hex64(prev)):
        raise BadLine("bad n, seq, hash or prev")
    if not (isinstance(raw["key"], str) and isinstance(raw["sig"], str) and isinstance(raw["at"], str)):
        raise BadLine("bad key, sig or at")
    try:
        at = dt.datetime.fromisoformat(raw["at"])
    except ValueError:
        raise BadLine("bad at") from None
    if at.tzinfo is None:
        raise BadLine("at without a time zone")
    return Checkpoint(n=n, seq=seq, hash=digest, at=at, prev=prev, key=raw["key"], sig=raw["sig"])


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hex64(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX64


@dataclass(frozen=True)
class FileCheck:
    """A checkpoint file checked line by line: its last good checkpoint, or the first problem in words."""

    last: Checkpoint | None
    count: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_file(lines: Iterable[str], public: Ed25519PublicKey | None, where: str) -> FileCheck:
    """Check every line of a checkpoint file (`where` names it in messages): well-formed, in sequence, linked,
    never going backwards, signed by `public` (None: no key to check with)."""
    last: Checkpoint | None = None
    last_line = ""
    count = 0
    for number, text in enumerate(lines, start=1):
        line = text.rstrip("\n")
        if not line.strip():
            continue
        try:
            cp = parse(line)
        except BadLine as exc:
            return FileCheck(
                last,
                count,
                _bad(
                    where,
                    f"第 {number} 行 / line {number}",
                    f"不是有效的检查点 / not a valid checkpoint ({exc})",
                ),
            )
        problem = _link_problem(cp, last, last_line, public)
        if problem is not None:
            return FileCheck(
                last,
                count,
                _bad(where, f"检查点 #{cp.n}（第 {number} 行）/ checkpoint #{cp.n} (line {number})", problem),
            )
        last, last_line, count = cp, line, count + 1
    return FileCheck(last, count)


def _bad(where: str, which: str, problem: str) -> str:
    return (
        f"签名检查点文件 {where} 不可信 / signed checkpoint file {where} is not trustworthy: {which}: "
        + problem
    )


def _link_problem(
    cp: Checkpoint, last: Checkpoint | None, last_line: str, public: Ed25519PublicKey | None
) -> str | None:
    expected_n = last.n + 1 if last else 1
    if cp.n != expected_n:
        return (
            f"序号不连续，应为 #{expected_n}（检查点被删除或插入）/ out of sequence, expected #{expected_n} "
            "(a checkpoint was removed or inserted)"
        )
    if cp.prev != (line_digest(last_line) if last else GENESIS_HASH):
        return "与前一个检查点的链接断开 / does not link to the previous checkpoint"
    if last is not None and (cp.seq < last.seq or cp.at < last.at):
        return "位置或时间早于前一个检查点 / goes backwards in seq or time"
    if public is None:
        return "找不到校验公钥 / no public key to check its signature with"
    if cp.key != key_id(public):
        expected = key_id(public)
        return f"由另一把密钥签名（{cp.key}，应为 {expected}）/ signed by another key ({cp.key}, expected {expected})"
    if not signature_ok(cp, public):
        return "签名无效（内容被改动或密钥不符）/ signature invalid (altered, or the wrong key)"
    return None


# ---------------------------------------------------------------------------------------------- the chain


def chain_shorter(cp: Checkpoint, head: ChainHead | None) -> str | None:
    """The chain's head lies before a signed checkpoint: entries were removed from the tail."""
    head_seq = head.seq if head else 0
    if head_seq >= cp.seq:
        return None
    return (
        f"审计链比签名检查点 #{cp.n} 短：检查点于 {_iso(cp.at)} 记录到第 {cp.seq} 条，链头只到第 {head_seq} 条"
        f"（末尾记录被删除）/ the chain is shorter than signed checkpoint #{cp.n}: it recorded seq {cp.seq} "
        f"at {_iso(cp.at)}, the head is at seq {head_seq} (entries were removed from the tail)"
    )


def chain_differs(cp: Checkpoint, stored_hash: str | None) -> str | None:
    """The entry a signed checkpoint pinned is gone or no longer the one signed: the chain was rewritten."""
    if stored_hash == cp.hash:
        return None
    return (
        f"第 {cp.seq} 条与签名检查点 #{cp.n}（{_iso(cp.at)}）不符（链被改写）/ entry seq {cp.seq} differs from "
        f"signed checkpoint #{cp.n} of {_iso(cp.at)} (the chain was rewritten)"
    )


def due(
    last: Checkpoint | None,
    head: ChainHead,
    now: dt.datetime,
    *,
    every: int,
    seconds: float,
    since: dt.datetime,
) -> bool:
    """A periodic checkpoint is due: the head moved, and by `every` entries or `seconds` since the last one
    (`since` stands for the last one's time when there is none yet). 0 turns a trigger off."""
    last_seq = last.seq if last else 0
    if head.seq <= last_seq:
        return False
    if every and head.seq - last_seq >= every:
        return True
    reference = last.at if last else since
    return bool(seconds) and (now - reference).total_seconds() >= seconds
