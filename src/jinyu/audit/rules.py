"""Pure rules of the audit trail: what an entry may hold, its canonical form and hash, and chain verification.

Stdlib only: values in, values out. The repository feeds `verify_chain` a stream of stored rows.

The chain: entry n stores `prev_hash` = hash of entry n-1 (64 zeros for the first), and
`hash` = SHA-256 of the canonical form of all its fields except `hash` (which include `seq` and `prev_hash`).
The one-row head (`seq`, `hash`) anchors the tail, so removing the last entries is detected too.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinyu.audit.errors import AuditEntryRejected

GENESIS_HASH = "0" * 64

# Every stored column except `hash`. Listed, not discovered, so that a later added column cannot silently
# change the hash of entries written before it existed.
HASHED_FIELDS = (
    "seq",
    "id",
    "at",
    "actor_id",
    "actor_name",
    "org_id",
    "tenant_id",
    "action",
    "subject_type",
    "subject_ids",
    "purpose",
    "outcome",
    "detail",
    "request_id",
    "prev_hash",
)

MAX_SUBJECT_IDS = 1000
MAX_SUBJECT_ID_CHARS = 256
MAX_DETAIL_CHARS = 8000
MAX_PURPOSE_CHARS = 200

_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SUBJECT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]*$")
# A standalone run of 11+ digits (optionally ending in X) looks like a mobile number, bank card or resident
# ID. Alphanumeric neighbours are excluded so that hex ids and credit codes do not trip it.
_RAW_IDENTIFIER_RE = re.compile(r"(?<![0-9A-Za-z])\d{11,19}[Xx]?(?![0-9A-Za-z])")
_DIGIT_GROUP_SEPARATOR_RE = re.compile(r"(?<=\d)[ -](?=\d)")  # "6222 0212 ..." and "138-0013-8000" count too


class Outcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    NOT_FOUND = "not_found"
    ERROR = "error"
    FAILED = "failed"


class Problem(enum.StrEnum):
    CHANGED = "changed"  # content no longer matches its hash (or its successor's link to it)
    REMOVED = "removed"  # a seq is missing, or the tail is shorter than the head
    REORDERED = "reordered"  # out of place: seq out of order, or the link to the previous entry is broken
    INSERTED = (
        "inserted"  # never appended through the chain: a second link to one predecessor, or past the head
    )
    HEAD = "head"  # the head anchor is missing or disagrees with an empty chain
    CHECKPOINT = (
        "checkpoint"  # shorter than or different from a signed checkpoint, or the checkpoints are bad
    )


_OUTCOMES = frozenset(o.value for o in Outcome)

_PROBLEM_TEXT: dict[Problem, str] = {
    Problem.CHANGED: "第 {seq} 条审计记录被篡改：内容与哈希不符 / audit entry seq {seq} was changed: "
    "its content no longer matches its hash",
    Problem.REMOVED: "第 {seq} 条审计记录缺失（已被删除）/ audit entry seq {seq} is missing (removed)",
    Problem.REORDERED: "第 {seq} 条审计记录位置被改动：与前一条的链接断开 / audit entry seq {seq} is out of "
    "place (reordered): its link to the previous entry is broken",
    Problem.INSERTED: "第 {seq} 条审计记录是插入的伪造记录 / audit entry seq {seq} was inserted: "
    "it was never appended through the chain",
    Problem.HEAD: "审计链头锚点缺失或与链尾不符 / the audit chain head anchor is missing or does not match "
    "the tail",
    Problem.CHECKPOINT: "{note}",
}


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class CheckpointRef:
    """The signed checkpoint a verification was held against (see `audit.checkpoints`)."""

    n: int
    seq: int
    hash: str
    at: dt.datetime


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of verifying the chain: intact, or the FIRST bad entry and what happened to it."""

    checked: int
    head: ChainHead | None
    problem: Problem | None = None
    first_bad_seq: int | None = None
    checkpoint: CheckpointRef | None = None  # the last signed checkpoint, when there is one
    note: str | None = None  # the checkpoint problem, in words (Problem.CHECKPOINT)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.problem is None:
            cp = self.checkpoint
            anchored = (
                f"；与检查点 #{cp.n}（第 {cp.seq} 条）一致 / matches checkpoint #{cp.n} (seq {cp.seq})"
                if cp is not None
                else "；尚无签名检查点 / no signed checkpoint yet"
            )
            return (
                f"审计链完整：已校验 {self.checked} 条 / audit chain intact: {self.checked} entries checked"
                + anchored
            )
        return "审计链已损坏 / audit chain broken: " + _PROBLEM_TEXT[self.problem].format(
            seq=self.first_bad_seq, note=self.note
        )


@dataclass(frozen=True)
class Content:
    """The caller-supplied part of an entry, validated and serialised as it will be stored and hashed."""

    action: str
    subject_type: str
    subject_ids: str  # JSON text list
    purpose: str | None
    outcome: str
    detail: str | None  # JSON text object


# ---------------------------------------------------------------------------------------------- content


def json_text(value: Any) -> str:
    """The one JSON spelling used for stored lists/objects and for searching inside them."""
    return _TEXT.encode(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


# `json.dumps` with these options builds an encoder per call; one built once writes the same text (the encoder
# keeps no state between calls: each `encode` starts afresh).
_TEXT = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def looks_like_raw_identifier(text: str) -> bool:
    """A value shaped like a phone, bank card or resident ID number — those reach the trail pseudonymized."""
    return _RAW_IDENTIFIER_RE.search(_DIGIT_GROUP_SEPARATOR_RE.sub("", text)) is not None


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings_in(item)


def _reject(field: str, message: str) -> AuditEntryRejected:
    return AuditEntryRejected(detail=f"{field}: {message}")


def _refuse_raw_identifiers(field: str, value: Any) -> None:
    # One search over every string joined by newlines finds what a search per string finds: neither
    # pattern matches a newline or lets one count as a digit or letter, so no match spans two strings.
    if looks_like_raw_identifier("\n".join(_strings_in(value))):
        raise _reject(
            field,
            "疑似原始个人标识（手机号/银行卡号/身份证号），请先假名化 / looks like a raw personal identifier "
            "(phone, card or ID number); pseudonymize it first",
        )


def content_of(
    *,
    action: str,
    subject_type: str,
    subject_ids: Sequence[str] = (),
    purpose: str | None = None,
    outcome: str = Outcome.OK,
    detail: Mapping[str, Any] | None = None,
) -> Content:
    """Validate what a caller asks to record. Refused content never reaches the (permanent) trail."""
    if not _ACTION_RE.match(action) or len(action) > 100:
        raise _reject(
            "action", "应为小写点分名称，如 party.org.read / must be dotted lowercase like party.org.read"
        )
    if not _SUBJECT_TYPE_RE.match(subject_type) or len(subject_type) > 64:
        raise _reject(
            "subject_type", "应为小写名称，如 organisation / must be a lowercase name like organisation"
        )
    if isinstance(subject_ids, str):
        raise _reject("subject_ids", "应为 id 列表而非字符串 / must be a list of ids, not one string")
    ids = [str(i) for i in subject_ids]
    if len(ids) > MAX_SUBJECT_IDS:
        raise _reject("subject_ids", f"最多 {MAX_SUBJECT_IDS} 个 / at most {MAX_SUBJECT_IDS} ids")
    if any(not i or len(i) > MAX_SUBJECT_ID_CHARS for i in ids):
        raise _reject(
            "subject_ids",
            f"id 不能为空且不超过 {MAX_SUBJECT_ID_CHARS} 字符 / ids must be 1-{MAX_SUBJECT_ID_CHARS} chars",
        )
    if outcome not in _OUTCOMES:
        raise _reject("outcome", f"应为 / must be one of {', '.join(o.value for o in Outcome)}")
    if purpose is not None and (not purpose.strip() or len(purpose) > MAX_PURPOSE_CHARS):
        raise _reject(
            "purpose", f"不能为空且不超过 {MAX_PURPOSE_CHARS} 字符 / must be 1-{MAX_PURPOSE_CHARS} chars"
        )
    # Free text and structures are where raw identifiers leak by accident. subject_ids are the caller's
    # declared ids of the subject (internal ids or pseudonyms by convention) and are what searches match.
    for name, value in (("purpose", purpose), ("detail", detail)):
        _refuse_raw_identifiers(name, value)
    return Content(
        action=action,
        subject_type=subject_type,
        subject_ids=json_text(ids),
        purpose=purpose,
        outcome=str(Outcome(outcome)),
        detail=_detail_text(detail),
    )


def _detail_text(detail: Mapping[str, Any] | None) -> str | None:
    if detail is None:
        return None
    if not isinstance(detail, Mapping):
        raise _reject("detail", "应为 JSON 对象 / must be a JSON object")
    try:
        text = json_text(dict(detail))
    except (TypeError, ValueError) as exc:
        raise _reject("detail", f"无法序列化为 JSON / not JSON-serialisable: {exc}") from None
    if len(text) > MAX_DETAIL_CHARS:
        raise _reject("detail", f"超过 {MAX_DETAIL_CHARS} 字符 / longer than {MAX_DETAIL_CHARS} chars")
    return text


# ---------------------------------------------------------------------------------------------- hashing


def _canonical_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return utc.isoformat(timespec="microseconds")
    if value is None or isinstance(value, str | int):
        return value
    # Lists and objects are hashed as their stored JSON text, so the hash covers exactly the stored bytes.
    raise TypeError(f"unexpected field type in an audit entry: {type(value).__name__}")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """Sorted-key JSON of every hashed field; timestamps as ISO UTC with microseconds."""
    payload = {name: _canonical_value(fields[name]) for name in HASHED_FIELDS}
    return _CANONICAL.encode(payload).encode()


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the entry's canonical form, chained to `prev_hash`."""
    return hashlib.sha256(canonical({**fields, "prev_hash": prev_hash})).hexdigest()


def link(rows: Iterable[Mapping[str, Any]], head: ChainHead) -> list[dict[str, Any]]:
    """Chain journaled entries after `head`, in the given order: each one's id, seq, prev_hash and hash."""
    links: list[dict[str, Any]] = []
    seq, prev = head.seq, head.hash
    for row in rows:
        seq += 1
        fields = {**row, "seq": seq, "prev_hash": prev}
        digest = entry_hash(prev, fields)
        links.append({"id": row["id"], "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    return links


def _self_consistent(entry: Mapping[str, Any]) -> bool:
    return bool(entry_hash(entry["prev_hash"], entry) == entry["hash"])


# ---------------------------------------------------------------------------------------------- verifying

Finding = tuple[Problem, int]


def verify_chain(
    entries: Iterable[Mapping[str, Any]], head: ChainHead | None, *, start: ChainHead | None = None
) -> VerifyResult:
    """Stream `entries` (meant to be in seq order) and name the FIRST entry that was changed, removed,
    reordered or inserted. Holds two entries at a time, however long the chain.

    `start`: the entries continue a chain already checked up to this (seq, hash) — a signed checkpoint — and
    begin at the entry after it."""
    current, upcoming = itertools.tee(entries)
    next(upcoming, None)  # one entry of look-ahead tells a moved entry from a missing one
    previous: Mapping[str, Any] | None = None
    if start is not None and start.seq > 0:
        previous = {"seq": start.seq, "hash": start.hash, "prev_hash": None}
    checked = 0
    for entry, following in itertools.zip_longest(current, upcoming):
        finding = _check_entry(entry, previous, following, head)
        if finding is not None:
            return VerifyResult(checked, head, *finding)
        checked += 1
        previous = entry
    return _check_tail(previous, head, checked)


def _check_entry(
    entry: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    following: Mapping[str, Any] | None,
    head: ChainHead | None,
) -> Finding | None:
    seq: int = entry["seq"]
    expected_seq = previous["seq"] + 1 if previous is not None else 1
    if seq < expected_seq:
        return Problem.REORDERED, seq
    if seq > expected_seq:
        if following is not None and following["seq"] < seq:
            return Problem.REORDERED, seq  # a later entry belongs before this one: moved, not missing
        return Problem.REMOVED, expected_seq
    if head is not None and seq > head.seq:
        return Problem.INSERTED, seq  # the head is moved in the same transaction as every real append
    expected_prev = previous["hash"] if previous is not None else GENESIS_HASH
    if entry["prev_hash"] != expected_prev:
        return _diagnose_broken_link(entry, previous)
    if not _self_consistent(entry):
        return Problem.CHANGED, seq
    return None


def _diagnose_broken_link(entry: Mapping[str, Any], previous: Mapping[str, Any] | None) -> Finding:
    if previous is not None and entry["prev_hash"] == previous["prev_hash"]:
        # Two entries claim the same predecessor: the previous one was slipped in between.
        return Problem.INSERTED, previous["seq"]
    if previous is not None and _self_consistent(entry):
        # This entry is intact, but its predecessor's hash is no longer the one it was chained to:
        # the predecessor was rewritten (and rehashed) after this entry was appended.
        return Problem.CHANGED, previous["seq"]
    return Problem.REORDERED, entry["seq"]


def _check_tail(last: Mapping[str, Any] | None, head: ChainHead | None, checked: int) -> VerifyResult:
    last_seq: int = last["seq"] if last is not None else 0
    last_hash: str = last["hash"] if last is not None else GENESIS_HASH
    if head is None:
        problem = None if last is None else Problem.HEAD
        return VerifyResult(checked, head, problem, None)
    if head.seq > last_seq:
        return VerifyResult(checked, head, Problem.REMOVED, last_seq + 1)
    if head.hash != last_hash:
        if last is None:
            return VerifyResult(checked, head, Problem.HEAD, None)
        # The last entry is self-consistent but not the one the head anchored: rewritten and rehashed.
        return VerifyResult(checked - 1, head, Problem.CHANGED, last_seq)
    return VerifyResult(checked, head)


def beyond_head(checked: VerifyResult, first_seq_beyond_head: int | None) -> VerifyResult:
    """Fold in the check for entries stored past the head (which every real append moves along)."""
    if not checked.ok or first_seq_beyond_head is None:
        return checked
    return VerifyResult(checked.checked, checked.head, Problem.INSERTED, first_seq_beyond_head)
