"""Use cases of the audit trail: record an action, seal journaled entries, verify the chain, search the trail.

Two ways an entry joins the chain, same chain either way:
- inline (CLI, jobs, tests): `record()` locks the chain head and links the entry at once. The head stays
  locked until the caller's transaction ends, so audited transactions queue behind each other. Call it as the
  last step, never before other row locks are taken (that could deadlock with another appender).
- journaled (a server process running `audit.sealer.Sealer` on that database): `record()` writes the entry
  unsealed in the caller's transaction and takes no lock; the sealer links committed entries in batches, in
  (time, id) order, a fraction of a second later. Verify and search seal what is waiting first.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import checkpoints, repository, rules
from jinyu.audit.anchor import Anchors
from jinyu.audit.checkpoints import FileCheck
from jinyu.audit.errors import AuditAppendConflict, AuditChainBroken, AuditChainHeadMissing
from jinyu.audit.models import AuditEntry
from jinyu.audit.rules import Outcome, Problem, VerifyResult
from jinyu.audit.schemas import AuditEntryOut, AuditFilter, CursorPage, PageRequest
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import detached, new_id, transaction
from jinyu.core.logging import request_id

log = logging.getLogger(__name__)


def record(
    session: Session,
    principal: Principal,
    *,
    action: str,
    subject_type: str,
    subject_ids: Sequence[str] = (),
    purpose: str | None = None,
    outcome: str = Outcome.OK,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction (never commits).

    `detail` must hold no raw personal identifiers (pseudonymize first); content that looks like one is
    refused with AuditEntryRejected, because nothing can be taken out of the chain afterwards.
    """
    # Validate before taking the head lock, so the lock is held only for the write itself.
    content = rules.content_of(
        action=action,
        subject_type=subject_type,
        subject_ids=subject_ids,
        purpose=purpose,
        outcome=outcome,
        detail=detail,
    )
    fields: dict[str, Any] = {
        "id": new_id(),
        "at": utcnow(),
        "actor_id": principal.subject_id,
        "actor_name": principal.username,
        "org_id": principal.org_id,
        "tenant_id": principal.tenant_id,
        "action": content.action,
        "subject_type": content.subject_type,
        "subject_ids": content.subject_ids,
        "purpose": content.purpose,
        "outcome": content.outcome,
        "detail": content.detail,
        "request_id": request_id.get(),
    }
    if _journaling(session):
        entry = detached(
            AuditEntry, **fields, seq=None, prev_hash=None, hash=None
        )  # never flushed by the ORM
        repository.journal(session, entry)
        return entry
    head = repository.lock_head(session)
    assert head is not None  # a blocking lock always answers
    fields |= {"seq": head.seq + 1, "prev_hash": head.hash}
    # Built as the ORM's loader builds objects (`detached`): the constructor's change events per attribute
    # (history no Core INSERT reads) were ~7 % of a one-loan check's audit entry (issue 19, h-bt).
    entry = detached(AuditEntry, **fields, hash=rules.entry_hash(head.hash, fields))
    repository.append(session, entry, head)
    return entry


# Engines whose entries are journaled: those a running Sealer serves (see audit.sealer).
_JOURNALED: set[Engine] = set()
_JOURNALED_LOCK = threading.Lock()


def journal_for(engine: Engine, on: bool) -> None:
    with _JOURNALED_LOCK:
        if on:
            _JOURNALED.add(engine)
        else:
            _JOURNALED.discard(engine)


def _journaling(session: Session) -> bool:
    return bool(_JOURNALED) and session.get_bind() in _JOURNALED


SEAL_BATCH = 1000


def seal(session: Session, *, batch: int = SEAL_BATCH, wait: bool = True) -> int:
    """Link up to `batch` committed journaled entries into the chain, in (time, id) order; how many.

    Holds the chain head until the caller's transaction ends. `wait=False` (PostgreSQL) gives up at once
    when another transaction holds the head: another sealer is at work."""
    head = repository.lock_head(session, skip_locked=not wait)
    if head is None:
        return 0
    rows = repository.journaled(session, batch)
    if not rows:
        return 0
    links = rules.link(rows, head)
    repository.seal_rows(session, links, head)
    return len(links)


def seal_waiting(session: Session) -> None:
    """Seal what waits, if anything; a chain that refuses appends (no head, a row past it) is left for verify to
    report, so reading never fails on it."""
    if not repository.count_journaled(session):
        return
    try:
        with session.begin_nested():
            seal_all(session)
    except (AuditChainHeadMissing, AuditChainBroken, AuditAppendConflict) as exc:
        log.warning("audit.seal skipped: chain refuses appends", extra={"problem": type(exc).__name__})


def seal_all(session: Session) -> int:
    """Seal everything journaled and committed so far (inside the caller's transaction)."""
    total = 0
    while True:
        done = seal(session)
        total += done
        if done < SEAL_BATCH:
            return total


def record_outcome(
    factory: sessionmaker[Session],
    principal: Principal,
    *,
    action: str,
    subject_type: str,
    subject_ids: Sequence[str] = (),
    purpose: str | None = None,
    outcome: str = Outcome.OK,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Like `record()`, in a transaction of its own that commits: for denials and failures whose request
    transaction is rolled back. Call it after that rollback — while the failing transaction still holds the
    head lock, this would wait on it forever."""
    with transaction(factory) as session:
        entry = record(
            session,
            principal,
            action=action,
            subject_type=subject_type,
            subject_ids=subject_ids,
            purpose=purpose,
            outcome=outcome,
            detail=detail,
        )
    return entry


def verify(
    session: Session,
    principal: Principal,
    *,
    anchors: Anchors | None = None,
    batch_size: int = repository.VERIFY_BATCH,
) -> VerifyResult:
    """Walk the whole chain in seq order, `batch_size` rows at a time, then hold it against the signed
    checkpoints of `anchors` (the boundaries always pass them); the check itself is audited."""
    principal.require(Perm.AUDIT_VERIFY)
    seal_waiting(session)  # journaled entries waiting for the sealer are checked too
    # The checkpoints first: one written while we walk then pins a head no later than the one we read next.
    pinned = anchors.check() if anchors is not None else None
    head = repository.read_head(session)
    # Up to the head read now: entries appended while we walk are for the next run, not false alarms.
    entries = repository.iter_chain(session, upto=head.seq if head else None, batch=batch_size)
    beyond = repository.first_seq_beyond_head(session) if head else None
    result = rules.beyond_head(rules.verify_chain(entries, head), beyond)
    if result.ok and pinned is not None:
        result = _against_checkpoints(session, result, pinned)
    if beyond is not None or (head is None and not result.ok):
        # A chain with no head, or with a row already in the next seq, refuses appends (fails closed), so
        # this check cannot be recorded in it; the log keeps a trace for the operator.
        log.warning("audit.verify not recorded: chain refuses appends", extra={"problem": result.problem})
        return result
    record(
        session,
        principal,
        action="audit.verify",
        subject_type="audit_chain",
        outcome=Outcome.OK if result.ok else Outcome.FAILED,
        detail={
            "checked": result.checked,
            "head_seq": head.seq if head else None,
            "problem": result.problem,
            "first_bad_seq": result.first_bad_seq,
            "checkpoint": result.checkpoint.n if result.checkpoint else None,
        },
    )
    return result


def _against_checkpoints(session: Session, result: VerifyResult, pinned: FileCheck) -> VerifyResult:
    """An intact chain must also reach and pass through the last signed checkpoint."""
    last = pinned.last
    ref = last.ref if last else None
    if not pinned.ok:
        return VerifyResult(result.checked, result.head, Problem.CHECKPOINT, None, ref, pinned.problem)
    if last is None:
        return result
    head, stored = result.head, repository.hash_at(session, last.seq)
    if checkpoints.chain_shorter(last, head) or checkpoints.chain_differs(last, stored):
        # Our transaction's snapshot may predate a checkpoint written since (SQLite): judge what is committed.
        now = repository.head_and_hash_now(session, last.seq)
        if now is not None:
            head, stored = now
    shorter = checkpoints.chain_shorter(last, head)
    if shorter is not None:
        first_missing = (head.seq if head else 0) + 1
        return VerifyResult(result.checked, result.head, Problem.CHECKPOINT, first_missing, ref, shorter)
    differs = checkpoints.chain_differs(last, stored)
    if differs is not None:
        return VerifyResult(result.checked, result.head, Problem.CHECKPOINT, last.seq, ref, differs)
    return VerifyResult(result.checked, result.head, checkpoint=ref)


def search(
    session: Session, principal: Principal, filters: AuditFilter, page: PageRequest
) -> CursorPage[AuditEntryOut]:
    """Entries matching `filters`, newest first, one page at a time. The search itself is audited."""
    principal.require(Perm.AUDIT_READ)
    seal_waiting(session)  # so the newest journaled entries show
    rows = repository.search(session, principal, filters, before_seq=page.before_seq, limit=page.limit + 1)
    items = [_out(row) for row in rows[: page.limit]]
    more = len(rows) > page.limit
    # Filters plus the seq range pin down exactly what was shown: entries never change and new ones only
    # get higher seqs, so there is no need to list every id.
    record(
        session,
        principal,
        action="audit.search",
        subject_type="audit_entry",
        detail={
            "filters": filters.describe(),
            "cursor": page.cursor,
            "returned": len(items),
            "newest_seq": items[0].seq if items else None,
            "oldest_seq": items[-1].seq if items else None,
        },
    )
    return CursorPage[AuditEntryOut](
        items=items, limit=page.limit, next_cursor=str(items[-1].seq) if more else None
    )


def _out(entry: AuditEntry) -> AuditEntryOut:
    if entry.seq is None or entry.prev_hash is None or entry.hash is None:  # search reads sealed rows only
        raise RuntimeError(f"unsealed audit entry {entry.id} in search / 检索到未封存条目")
    return AuditEntryOut(
        seq=entry.seq,
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        org_id=entry.org_id,
        tenant_id=entry.tenant_id,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_ids=_ids(entry.subject_ids),
        purpose=entry.purpose,
        outcome=Outcome(entry.outcome),
        detail=_detail(entry.detail),
        request_id=entry.request_id,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


# A row edited by hand may no longer hold valid JSON; search must still show it to whoever investigates.


def _ids(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return [str(v) for v in value] if isinstance(value, list) else [text]


def _detail(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"unparsed": text}
    return value if isinstance(value, dict) else {"unparsed": text}
