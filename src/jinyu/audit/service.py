"""Use cases of the audit trail: record an action, verify the chain, search the trail.

Record late: `record()` locks the chain head until the caller's transaction ends, so every audited
transaction in the platform queues behind it. Call it as the last step before returning, never before
other row locks are taken (that could deadlock with another appender).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import repository, rules
from jinyu.audit.models import AuditEntry
from jinyu.audit.rules import Outcome, VerifyResult
from jinyu.audit.schemas import AuditEntryOut, AuditFilter, CursorPage, PageRequest
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id, transaction
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
    head = repository.lock_head(session)
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
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
        "prev_hash": head.hash,
    }
    entry = AuditEntry(**fields, hash=rules.entry_hash(head.hash, fields))
    repository.append(session, entry, head)
    return entry


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
        session.expunge(entry)  # keep its loaded values readable after the session closes
    return entry


def verify(
    session: Session, principal: Principal, *, batch_size: int = repository.VERIFY_BATCH
) -> VerifyResult:
    """Walk the whole chain in seq order, `batch_size` rows at a time; the check itself is audited."""
    principal.require(Perm.AUDIT_VERIFY)
    head = repository.read_head(session)
    # Up to the head read now: entries appended while we walk are for the next run, not false alarms.
    entries = repository.iter_chain(session, upto=head.seq if head else None, batch=batch_size)
    beyond = repository.first_seq_beyond_head(session) if head else None
    result = rules.beyond_head(rules.verify_chain(entries, head), beyond)
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
        },
    )
    return result


def search(
    session: Session, principal: Principal, filters: AuditFilter, page: PageRequest
) -> CursorPage[AuditEntryOut]:
    """Entries matching `filters`, newest first, one page at a time. The search itself is audited."""
    principal.require(Perm.AUDIT_READ)
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
