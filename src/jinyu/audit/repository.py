"""Every SQL statement on the audit tables. Portable between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Select,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import aliases
from jinyu.audit.errors import AuditAppendConflict, AuditChainBroken, AuditChainHeadMissing
from jinyu.audit.models import HEAD_ID, AuditEntry, AuditHead
from jinyu.audit.rules import GENESIS_HASH, ChainHead, json_text
from jinyu.core import pipeline
from jinyu.core.auth import Principal
from jinyu.core.db import column_values, lock_for_update

if TYPE_CHECKING:
    from jinyu.audit.schemas import AuditFilter

VERIFY_BATCH = 1000

_CHAIN_COLUMNS = tuple(AuditEntry.__table__.c)

# The statements every audited request runs, built once (Core, on the tables): building `insert().values(...)`
# or `update().where(...).values(...)` anew each time cost more than executing them on SQLite.
_ENTRIES = cast(Table, AuditEntry.__table__)
_HEADS = cast(Table, AuditHead.__table__)
_INSERT_ENTRY = insert(_ENTRIES)
# SQLite's head lock and read in one statement: a no-op UPDATE returning the head it locked (see lock_head).
_LOCK_AND_READ_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == HEAD_ID)
    .values(seq=_HEADS.c.seq)
    .returning(_HEADS.c.seq, _HEADS.c.hash)
)
# Moving the head onto a new entry, only from the head that was locked.
_MOVE_HEAD = (
    update(_HEADS)
    .where(
        _HEADS.c.id == HEAD_ID,
        _HEADS.c.seq == bindparam("from_seq"),
        _HEADS.c.hash == bindparam("from_hash"),
    )
    .values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))
)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# ---------------------------------------------------------------------------------------------- appending


def lock_head(session: Session, *, skip_locked: bool = False) -> ChainHead | None:
    """Take the chain's head for this transaction, creating it on first use; other appenders wait — or, with
    `skip_locked` (PostgreSQL), None at once when another transaction holds it.

    PostgreSQL: `SELECT ... FOR UPDATE` on the head row. SQLite has no row locks; it serialises writers, but
    only from a transaction's first write — so a no-op UPDATE of the head comes first, taking SQLite's write
    lock before the head is read (a read first would let two appenders read the same head).
    """
    row_locks = lock_for_update(_dialect(session))
    if not row_locks:
        # The no-op UPDATE returns the head it locked: the lock and the read in one statement.
        locked = session.connection().execute(_LOCK_AND_READ_HEAD).one_or_none()
        if locked is not None:
            return ChainHead(locked.seq, locked.hash)
    if row_locks and skip_locked and _head_exists(session):
        row = session.execute(
            select(AuditHead.seq, AuditHead.hash)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        return None if row is None else ChainHead(row.seq, row.hash)
    head = _read_head(session, for_update=row_locks)
    if head is None:
        # Create first, then check: a concurrent first appender's head makes our insert fail (and we use its
        # head); checking for entries first could see that appender's entry committed in between and refuse.
        if _create_head(session):
            _refuse_headless_chain(session)  # we made the head: right only for a chain with no entries
        head = _read_head(session, for_update=row_locks)
    if head is None:  # created above, by us or by a concurrent first appender
        raise RuntimeError("audit_head row missing after creation / 审计链头创建失败")
    return head


def _head_exists(session: Session) -> bool:
    return session.execute(select(AuditHead.id).where(AuditHead.id == HEAD_ID)).first() is not None


def _read_head(session: Session, *, for_update: bool = False) -> ChainHead | None:
    # Columns, not the ORM object: a head loaded by an earlier transaction of this session would be served
    # stale from the identity map.
    stmt = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).one_or_none()
    return None if row is None else ChainHead(row.seq, row.hash)


def _refuse_headless_chain(session: Session) -> None:
    # Entries without a head means the head row was deleted. Re-creating it would hide a removed tail, so
    # appends fail closed until an operator restores the head (see docs/audit.md).
    # Sealed entries, that is: journaled ones waiting for their first sealer are no chain yet.
    if (
        session.execute(select(AuditEntry.seq).where(AuditEntry.seq.is_not(None)).limit(1)).first()
        is not None
    ):
        raise AuditChainHeadMissing(
            detail="审计链头缺失，须由运维核查后恢复 / the audit chain head row is missing; an operator must "
            "investigate and restore it"
        )


def _create_head(session: Session) -> bool:
    """Insert the genesis head; False when another transaction created it first.

    Inside a savepoint: when two first appenders race, the loser's INSERT waits for the winner's commit and
    fails on the primary key; rolling back to the savepoint keeps the caller's transaction usable."""
    try:
        with session.begin_nested():
            session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
    except IntegrityError:
        return False
    return True


def append(session: Session, entry: AuditEntry, head: ChainHead) -> None:
    """Write the entry and move the head onto it (same transaction, so they never disagree)."""
    try:
        _insert(session, entry)
    except IntegrityError as exc:
        # The head was locked, so a clash on seq means a row was stored past the head behind the chain's back.
        raise AuditChainBroken(
            detail=f"第 {entry.seq} 条位置已被占用，须由运维核查 / seq {entry.seq} is already taken past the "
            "chain head; an operator must investigate (jinyu audit verify)"
        ) from exc
    moved = cast(
        CursorResult[Any],
        session.connection().execute(
            _MOVE_HEAD,
            {"from_seq": head.seq, "from_hash": head.hash, "to_seq": entry.seq, "to_hash": entry.hash},
        ),
    )
    # Cannot happen while the head lock works; if it ever does, refuse rather than fork the chain.
    if moved.rowcount != 1:
        raise AuditAppendConflict(detail=f"head moved from seq {head.seq} / 链头已被移动")


def journal(session: Session, entry: AuditEntry) -> None:
    """Write an unsealed entry (seq, prev_hash and hash NULL) in the caller's transaction; no lock taken.

    Inside `core.pipeline.batched_writes` the insert joins the caller's pipeline."""
    queued = pipeline.queue(session)
    if queued is not None:
        queued.append(pipeline.insert_rows(_ENTRIES, [column_values(entry)]))
        return
    _insert(session, entry)


def _insert(session: Session, entry: AuditEntry) -> None:
    """One Core INSERT, written now: every audited request writes one, and the ORM's unit of work would cost
    more than the statement (the entry object stays out of the session; it is never changed after)."""
    session.flush()  # rows the entry may be about are written first, as an autoflush would
    with session.no_autoflush:
        session.connection().execute(_INSERT_ENTRY, column_values(entry))


def journaled(session: Session, limit: int) -> list[dict[str, Any]]:
    """The oldest committed unsealed entries, in the order the sealer links them (time, then id)."""
    stmt = (
        select(*_CHAIN_COLUMNS)
        .where(AuditEntry.seq.is_(None))
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(limit)
    )
    return [dict(row) for row in session.execute(stmt).mappings()]


def seal_rows(session: Session, links: list[dict[str, Any]], head: ChainHead) -> None:
    """Link journaled entries (`id`, `seq`, `prev_hash`, `hash` each) and move the head onto the last one."""
    on_pg = pipeline.available(session)
    sealed = _seal_rows_pg(session, links) if on_pg else _seal_rows_core(session, links)
    if sealed not in (-1, len(links)):
        # Only the head's holder seals; a row sealed behind its back means two sealers forked the chain.
        raise AuditAppendConflict(detail="journaled entries sealed concurrently / 日志条目被并发封存")
    last = links[-1]
    moved = cast(
        CursorResult[Any],
        session.execute(
            update(AuditHead)
            .where(AuditHead.id == HEAD_ID, AuditHead.seq == head.seq, AuditHead.hash == head.hash)
            .values(seq=last["seq"], hash=last["hash"]),
            execution_options={"synchronize_session": False},
        ),
    )
    if moved.rowcount != 1:
        raise AuditAppendConflict(detail=f"head moved from seq {head.seq} / 链头已被移动")


def _seal_rows_pg(session: Session, links: list[dict[str, Any]]) -> int:
    """PostgreSQL: one UPDATE ... FROM (VALUES ...) for the whole batch, the rows it sealed counted from its
    RETURNING. Why: an executemany ran one UPDATE per entry, a statement's cost on both sides for every
    settlement's audit entry under load."""
    session.flush()
    keyed = [{name: x[name] for name in ("id", "seq", "prev_hash", "hash")} for x in links]
    (rows,) = pipeline.run(session, [(_SEAL_PG, [[pipeline.json_rows(keyed)]])])
    return len(rows)


# One text whatever the number of entries (one JSON parameter, not a VALUES list): prepared once per connection.
_SEAL_PG = (
    "UPDATE audit_entries AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
    f"FROM {pipeline.from_json_rows('audit_entries')} AS v WHERE e.id = v.id AND e.seq IS NULL RETURNING e.id"
)


def _seal_rows_core(session: Session, links: list[dict[str, Any]]) -> int:
    table = cast(Table, AuditEntry.__table__)  # Core: an executemany UPDATE keyed by id
    stmt = (
        update(table)
        .where(table.c.id == bindparam("entry_id"), table.c.seq.is_(None))
        .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev"), hash=bindparam("new_hash"))
    )
    params = [
        {"entry_id": x["id"], "new_seq": x["seq"], "new_prev": x["prev_hash"], "new_hash": x["hash"]}
        for x in links
    ]
    result = cast(
        CursorResult[Any], session.execute(stmt, params, execution_options={"synchronize_session": False})
    )
    return int(result.rowcount)


def count_journaled(session: Session) -> int:
    return int(session.execute(select(func.count()).where(AuditEntry.seq.is_(None))).scalar_one())


# ---------------------------------------------------------------------------------------------- verifying


def read_head(session: Session) -> ChainHead | None:
    return _read_head(session)


def iter_chain(
    session: Session, *, upto: int | None, batch: int = VERIFY_BATCH, after: int = 0
) -> Iterator[dict[str, Any]]:
    """Every entry past `after` as a plain mapping, in seq order, fetched `batch` rows at a time (keyset, not
    OFFSET)."""
    while True:
        stmt = select(*_CHAIN_COLUMNS).where(AuditEntry.seq > after)
        if upto is not None:
            stmt = stmt.where(AuditEntry.seq <= upto)
        rows = session.execute(stmt.order_by(AuditEntry.seq).limit(batch)).mappings().all()
        for row in rows:
            yield dict(row)
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


def hash_at(session: Session, seq: int) -> str | None:
    """The stored hash of entry `seq` (None when there is no such entry)."""
    value: str | None = session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == seq)
    ).scalar_one_or_none()
    return value


def head_and_hash_now(session: Session, seq: int) -> tuple[ChainHead | None, str | None] | None:
    """The head and entry `seq`'s hash as committed now, read outside the session's transaction (whose
    snapshot may be older: SQLite keeps one from a transaction's first read); None when the session is not
    bound to an engine."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
        # SQLite transactions begin IMMEDIATE (core.db): no writer commits while ours runs, so its snapshot is
        # what is committed — and a second transaction opened now would wait for ours to end.
        return None
    with Session(bind) as fresh:
        return _read_head(fresh), hash_at(fresh, seq)


def first_seq_beyond_head(session: Session) -> int | None:
    """The lowest stored seq past the head, read in one statement so that concurrent appends (which move
    entry and head together) are never mistaken for forged ones."""
    head_seq = select(func.coalesce(func.max(AuditHead.seq), 0)).where(AuditHead.id == HEAD_ID)
    stmt = select(func.min(AuditEntry.seq)).where(AuditEntry.seq > head_seq.scalar_subquery())
    value: int | None = session.execute(stmt).scalar_one_or_none()
    return value


# ---------------------------------------------------------------------------------------------- searching


def readable(principal: Principal) -> Select[AuditEntry]:
    """Regulators (who see everything) read the whole trail; anyone else only their own tenant's entries."""
    stmt = select(AuditEntry)
    if not principal.sees_everything:
        stmt = stmt.where(AuditEntry.tenant_id == principal.tenant_id)
    return stmt


def search(
    session: Session, principal: Principal, filters: AuditFilter, *, before_seq: int | None, limit: int
) -> list[AuditEntry]:
    """Newest first: the `limit` entries matching `filters` with seq below `before_seq`."""
    # A pseudonym also matches its tokens of earlier key versions (entries are never re-tokenized: aliases).
    subjects = aliases.expand(session, filters.subject_id) if filters.subject_id else []
    stmt = readable(principal).where(AuditEntry.seq.is_not(None), *_conditions(filters, subjects))
    if before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return list(session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))


def _conditions(f: AuditFilter, subjects: list[str]) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.actor_id:
        conds.append(AuditEntry.actor_id == f.actor_id)
    if f.org_id:
        conds.append(AuditEntry.org_id == f.org_id)
    if f.action_prefix:
        conds.append(AuditEntry.action.startswith(f.action_prefix, autoescape=True))
    elif f.action:
        conds.append(AuditEntry.action == f.action)
    if f.subject_type:
        conds.append(AuditEntry.subject_type == f.subject_type)
    if subjects:
        # Match the quoted JSON string, so "ab" never matches inside "abc". lower() on both sides makes
        # SQLite's case-insensitive LIKE and PostgreSQL's case-sensitive one answer the same.
        text = func.lower(AuditEntry.subject_ids)
        conds.append(or_(*(text.contains(json_text(s).lower(), autoescape=True) for s in subjects)))
    if f.outcome:
        conds.append(AuditEntry.outcome == f.outcome.value)
    if f.since:
        conds.append(AuditEntry.at >= f.since)
    if f.until:
        conds.append(AuditEntry.at < f.until)
    return conds


def reads_of_org(session: Session, org_id: str, limit: int) -> list[AuditEntry]:
    """Sealed entries about one organisation's data (subject type enterprise) by anyone outside it, newest first.
    Unscoped on purpose: the data's owner sees who read it, whichever tenant read it (the caller checks who
    may ask)."""
    needle = json_text(org_id).lower()
    stmt = select(AuditEntry).where(
        AuditEntry.seq.is_not(None),
        AuditEntry.subject_type == "enterprise",
        func.lower(AuditEntry.subject_ids).contains(needle, autoescape=True),
        AuditEntry.org_id != org_id,
    )
    return list(session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))
