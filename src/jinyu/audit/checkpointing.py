"""Use cases of signed checkpoints (see `audit.checkpoints` for the format, `audit.anchor` for the file and
key): write one now, write one when due (the background checkpointer), list them. `service.verify` holds the
chain against them."""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import checkpoints, repository, rules, service
from jinyu.audit.anchor import Anchors
from jinyu.audit.checkpoints import Checkpoint, FileCheck
from jinyu.audit.errors import CheckpointRefused
from jinyu.audit.rules import ChainHead
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import transaction

log = logging.getLogger(__name__)


def checkpoint(session: Session, principal: Principal, anchors: Anchors) -> Checkpoint:
    """Sign and append a checkpoint of the current head now (the chain since the last one is checked first);
    audited as `audit.checkpoint`."""
    principal.require(Perm.AUDIT_VERIFY)
    service.seal_waiting(session)
    cp = write_checkpoint(session, anchors)
    if cp is None:  # cannot happen without a due rule
        raise CheckpointRefused(detail="no checkpoint written / 未写入检查点")
    service.record(
        session,
        principal,
        action="audit.checkpoint",
        subject_type="audit_chain",
        detail={"n": cp.n, "seq": cp.seq, "hash": cp.hash, "key": cp.key},
    )
    return cp


DueRule = Callable[[Checkpoint | None, ChainHead], bool]


def write_checkpoint(session: Session, anchors: Anchors, due: DueRule | None = None) -> Checkpoint | None:
    """Append a signed checkpoint of the committed head (when `due` says so; always without it).

    Under the file's lock: the last checkpoint must be intact and the chain must still pass through it and
    hold up to the head — a checkpoint never signs a chain that was cut or rewritten. Refusals raise
    CheckpointRefused naming the problem."""
    key = anchors.signing_key()
    with anchors.appending() as sink:
        last = _last_checkpoint(sink.last_line(), anchors, key.public_key())
        head = repository.read_head(session)
        if head is None or head.seq == 0:
            if due is not None:
                return None
            raise CheckpointRefused(detail="审计链为空，无可签名的内容 / the trail is empty: nothing to sign")
        if due is not None and not due(last, head):
            return None
        if last is not None:
            problem = checkpoints.chain_shorter(last, head) or checkpoints.chain_differs(
                last, repository.hash_at(session, last.seq)
            )
            if problem is not None:
                raise CheckpointRefused(detail=problem)
        start = ChainHead(last.seq, last.hash) if last else None
        entries = repository.iter_chain(session, upto=head.seq, after=start.seq if start else 0)
        since = rules.verify_chain(entries, head, start=start)
        if not since.ok:
            raise CheckpointRefused(detail=since.message)
        cp = checkpoints.make(last, head, utcnow(), key)
        sink.append(cp)
    log.info("audit.checkpoint written", extra={"n": cp.n, "seq": cp.seq})
    return cp


def _last_checkpoint(line: str | None, anchors: Anchors, public: Any) -> Checkpoint | None:
    if line is None:
        return None
    try:
        last = checkpoints.parse(line)
    except checkpoints.BadLine as exc:
        raise CheckpointRefused(
            detail=f"{anchors.sink.name} 的最后一行不是有效检查点 / the last line of {anchors.sink.name} "
            f"is not a valid checkpoint ({exc}); run jinyu audit verify"
        ) from None
    if last.key != checkpoints.key_id(public) or not checkpoints.signature_ok(last, public):
        raise CheckpointRefused(
            detail=f"检查点 #{last.n} 的签名与当前密钥不符 / checkpoint #{last.n} does not verify with the "
            f"current key ({checkpoints.key_id(public)}); run jinyu audit verify"
        )
    return last


def list_checkpoints(
    session: Session, principal: Principal, anchors: Anchors, *, limit: int
) -> tuple[list[Checkpoint], FileCheck]:
    """The newest `limit` checkpoints (newest first) and the check of the whole file; audited."""
    principal.require(Perm.AUDIT_VERIFY)
    checked = anchors.check()
    newest: collections.deque[Checkpoint] = collections.deque(maxlen=limit)
    if checked.count or checked.ok:  # a file that could not be read at all lists nothing
        for line in anchors.lines():
            try:
                newest.append(checkpoints.parse(line))
            except checkpoints.BadLine:
                continue  # the file check names it
    service.record(
        session,
        principal,
        action="audit.checkpoint.list",
        subject_type="audit_chain",
        detail={"returned": len(newest), "count": checked.count, "ok": checked.ok},
    )
    return list(reversed(newest)), checked


def checkpoint_if_due(
    factory: sessionmaker[Session], anchors: Anchors, *, every: int, seconds: float, since: dt.datetime
) -> Checkpoint | None:
    """The periodic checkpoint (not audited: it would move the head it pins): written when `every` entries
    or `seconds` passed since the last one (`since` stands in for the first one's predecessor)."""
    now = utcnow()

    def is_due(last: Checkpoint | None, head: ChainHead) -> bool:
        return checkpoints.due(last, head, now, every=every, seconds=seconds, since=since)

    with transaction(factory) as session:
        return write_checkpoint(session, anchors, is_due)
