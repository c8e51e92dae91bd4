"""Writes of the settlement path as Core statements, one statement per table.

Why not the ORM unit of work: instant settlement is the platform's hottest endpoint and writes eight kinds of
row per discharge; the unit of work cost more CPU than everything else of a settlement together (profiled
in docs/claims.md). These rows are append-only (or, for accumulators and books, cached totals moved under
their owner's row lock), so nothing here needs change tracking. ORM objects already loaded in the session are
kept true with `set_committed_value`, so later reads in the same transaction see the new values and a later
flush does not write them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from jinyu.claim.models import (
    ClaimAccumulator,
    ClaimAccumulatorEntry,
    ClaimLedgerBook,
    ClaimLedgerJournal,
    ClaimLedgerPosting,
    ClaimMessage,
    ClaimPayoutEntry,
    ClaimSettlement,
)
from jinyu.claim.repository import pipeline
from jinyu.claim.repository.common import _row_locks
from jinyu.claim.repository.pipeline import BALANCE_FIELDS
from jinyu.core import pipeline as core_pipeline
from jinyu.core.db import column_values


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _connection(session: Session) -> Any:
    """The session's connection, after writing what the unit of work holds (rows here may refer to it)."""
    session.flush()  # returns at once when nothing is pending
    return session.connection()


def _insert(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    batch = core_pipeline.queue(session)
    if batch is not None:
        batch.append(core_pipeline.insert_rows(_table(model), rows))
    else:
        _connection(session).execute(insert(_table(model)), list(rows))


def add_settlement(session: Session, row: ClaimSettlement) -> None:
    """Insert a settlement built in memory (the object stays out of the session)."""
    _insert(session, ClaimSettlement, [column_values(row)])


def add_accumulator_entries(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    _insert(session, ClaimAccumulatorEntry, rows)


def add_payout_entries(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    _insert(session, ClaimPayoutEntry, rows)


def add_message(session: Session, row: Mapping[str, Any]) -> None:
    _insert(session, ClaimMessage, [row])


def add_journals(
    session: Session, journals: Sequence[Mapping[str, Any]], postings: Sequence[Mapping[str, Any]]
) -> None:
    _insert(session, ClaimLedgerJournal, journals)
    _insert(session, ClaimLedgerPosting, postings)


def accumulator_amounts(session: Session, enrollment_id: str) -> dict[tuple[str, str], Decimal]:
    """The enrollment's cached totals as now committed (call under the enrollment's row lock)."""
    t = _table(ClaimAccumulator)
    stmt = select(t.c.kind, t.c.code, t.c.amount).where(t.c.enrollment_id == enrollment_id)
    return {(kind, code): amount for kind, code, amount in session.connection().execute(stmt)}


def store_accumulators(
    session: Session, enrollment_id: str, amounts: Mapping[tuple[str, str], Decimal]
) -> None:
    """Set these totals (new ones inserted) in one statement; the caller holds the enrollment's row lock."""
    if not amounts:
        return
    batch = core_pipeline.queue(session)
    if batch is not None:
        batch.append(
            pipeline.upsert_accumulators([(enrollment_id, k, c, v) for (k, c), v in amounts.items()])
        )
    else:
        rows = [
            {"enrollment_id": enrollment_id, "kind": k, "code": c, "amount": v}
            for (k, c), v in amounts.items()
        ]
        _connection(session).execute(_upsert_accumulators(session), rows)
    _refresh_loaded_accumulators(session, enrollment_id, amounts)


def _upsert_accumulators(session: Session) -> Any:
    t = _table(ClaimAccumulator)
    stmt = (postgresql if _row_locks(session) else sqlite).insert(t)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.enrollment_id, t.c.kind, t.c.code], set_={"amount": stmt.excluded.amount}
    )


def _refresh_loaded_accumulators(
    session: Session, enrollment_id: str, amounts: Mapping[tuple[str, str], Decimal]
) -> None:
    if not session.identity_map:
        return  # nothing loaded (a batch reads the totals without the ORM): building each key cost ~2 %
    for (kind, code), amount in amounts.items():
        key = session.identity_key(ClaimAccumulator, (enrollment_id, kind, code))
        loaded = session.identity_map.get(key)
        if loaded is not None:
            set_committed_value(loaded, "amount", amount)


def store_book_balances(
    session: Session, moved: Sequence[tuple[ClaimLedgerBook, Mapping[str, Decimal]]], at: dt.datetime
) -> None:
    """Move (locked) books' cached balances in one statement; the loaded book objects show the new values
    without being flushed."""
    if not moved:
        return
    batch = core_pipeline.queue(session)
    if batch is not None:
        batch.append(pipeline.update_books([(book.id, balances, at) for book, balances in moved]))
    else:
        t = _table(ClaimLedgerBook)
        names = (*BALANCE_FIELDS, "updated_at")
        stmt = (
            update(t).where(t.c.id == bindparam("book_id")).values({n: bindparam(f"new_{n}") for n in names})
        )
        params = [
            {"book_id": book.id, "new_updated_at": at} | {f"new_{n}": balances[n] for n in BALANCE_FIELDS}
            for book, balances in moved
        ]
        _connection(session).execute(stmt, params)
    for book, balances in moved:
        for name in BALANCE_FIELDS:
            set_committed_value(book, name, balances[name])
        set_committed_value(book, "updated_at", at)
