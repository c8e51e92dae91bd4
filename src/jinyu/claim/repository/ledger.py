"""SQL on prepaid books, journals, postings and alerts; `lock_book(s)` are the book mutexes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import (
    Select,
    false,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ClaimAlert,
    ClaimLedgerBook,
    ClaimLedgerJournal,
    ClaimLedgerPosting,
)
from jinyu.claim.repository.common import (
    _is,
    _row_locks,
    _settles,
)
from jinyu.core.auth import OrgKind, Principal

# ------------------------------------------------------------------------------------------------ ledger


def readable_books(principal: Principal) -> Select[ClaimLedgerBook]:
    stmt = select(ClaimLedgerBook)
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimLedgerBook.insurer_id == principal.org_id)
    if _settles(principal):
        return stmt.where(ClaimLedgerBook.hospital_id == principal.org_id)
    return stmt.where(false())


def reported_books(session: Session, principal: Principal) -> list[ClaimLedgerBook]:
    """Books for the prepaid-fund report: every book for a regulator, the caller's own otherwise."""
    stmt = select(ClaimLedgerBook) if principal.sees_everything else readable_books(principal)
    return list(session.scalars(stmt.order_by(ClaimLedgerBook.insurer_id, ClaimLedgerBook.hospital_id)))


def get_book(session: Session, principal: Principal, book_id: str) -> ClaimLedgerBook | None:
    return session.scalars(readable_books(principal).where(ClaimLedgerBook.id == book_id)).first()


def list_books(
    session: Session, principal: Principal, hospital_id: str | None, year: int | None, limit: int, offset: int
) -> tuple[list[ClaimLedgerBook], int]:
    stmt = readable_books(principal)
    if hospital_id:
        stmt = stmt.where(ClaimLedgerBook.hospital_id == hospital_id)
    if year:
        stmt = stmt.where(ClaimLedgerBook.product_year == year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (ClaimLedgerBook.product_year.desc(), ClaimLedgerBook.hospital_id, ClaimLedgerBook.insurer_id)
    return list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset))), total


def find_book(session: Session, insurer_id: str, hospital_id: str, year: int) -> ClaimLedgerBook | None:
    stmt = select(ClaimLedgerBook).where(
        ClaimLedgerBook.insurer_id == insurer_id,
        ClaimLedgerBook.hospital_id == hospital_id,
        ClaimLedgerBook.product_year == year,
    )
    return session.scalars(stmt).first()


def lock_book(session: Session, book_id: str) -> ClaimLedgerBook:
    if not _row_locks(session):
        session.execute(
            update(ClaimLedgerBook).where(ClaimLedgerBook.id == book_id).values(mode=ClaimLedgerBook.mode),
            execution_options={"synchronize_session": False},
        )
    stmt = (
        select(ClaimLedgerBook).where(ClaimLedgerBook.id == book_id).execution_options(populate_existing=True)
    )
    if _row_locks(session):
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one()


def lock_books(session: Session, book_ids: Iterable[str]) -> dict[str, ClaimLedgerBook]:
    """Lock several books in id order (one order everywhere: no deadlock between two settlements)."""
    return {bid: lock_book(session, bid) for bid in sorted(set(book_ids))}


def lock_books_of(
    session: Session, insurer_ids: Sequence[str], hospital_id: str, year: int
) -> dict[str, ClaimLedgerBook]:
    """Lock a hospital's books of these insurers for the year in one statement (id order); insurer id -> book."""
    where = (
        ClaimLedgerBook.insurer_id.in_(list(insurer_ids)),
        ClaimLedgerBook.hospital_id == hospital_id,
        ClaimLedgerBook.product_year == year,
    )
    if not _row_locks(session):
        session.execute(
            update(ClaimLedgerBook).where(*where).values(mode=ClaimLedgerBook.mode),
            execution_options={"synchronize_session": False},
        )
    stmt = (
        select(ClaimLedgerBook)
        .where(*where)
        .order_by(ClaimLedgerBook.id)
        .execution_options(populate_existing=True)
    )
    if _row_locks(session):
        stmt = stmt.with_for_update()
    return {b.insurer_id: b for b in session.scalars(stmt)}


def journal_by_reference(session: Session, book_id: str, reference: str) -> ClaimLedgerJournal | None:
    stmt = select(ClaimLedgerJournal).where(
        ClaimLedgerJournal.book_id == book_id, ClaimLedgerJournal.reference == reference
    )
    return session.scalars(stmt).first()


def journals(
    session: Session, book_id: str, limit: int, offset: int
) -> tuple[list[ClaimLedgerJournal], dict[str, list[ClaimLedgerPosting]], int]:
    stmt = select(ClaimLedgerJournal).where(ClaimLedgerJournal.book_id == book_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.order_by(ClaimLedgerJournal.at.desc(), ClaimLedgerJournal.id).limit(limit).offset(offset)
        )
    )
    postings = postings_of(session, [j.id for j in rows])
    return rows, postings, total


def postings_of(session: Session, journal_ids: Sequence[str]) -> dict[str, list[ClaimLedgerPosting]]:
    out: dict[str, list[ClaimLedgerPosting]] = {j: [] for j in journal_ids}
    if journal_ids:
        stmt = select(ClaimLedgerPosting).where(ClaimLedgerPosting.journal_id.in_(list(journal_ids)))
        for p in session.scalars(stmt):
            out[p.journal_id].append(p)
    return out


def book_postings(session: Session, book_id: str) -> list[tuple[str, Decimal]]:
    stmt = select(ClaimLedgerPosting.account, ClaimLedgerPosting.amount).where(
        ClaimLedgerPosting.book_id == book_id
    )
    return [(a, v) for a, v in session.execute(stmt)]


def journals_of_settlement(session: Session, settlement_id: str) -> list[ClaimLedgerJournal]:
    stmt = select(ClaimLedgerJournal).where(ClaimLedgerJournal.settlement_id == settlement_id)
    return list(session.scalars(stmt.order_by(ClaimLedgerJournal.at)))


def open_alert(session: Session, book_id: str, kind: str) -> ClaimAlert | None:
    stmt = select(ClaimAlert).where(
        ClaimAlert.book_id == book_id, ClaimAlert.kind == kind, ClaimAlert.resolved_at.is_(None)
    )
    return session.scalars(stmt).first()


def readable_alerts(principal: Principal) -> Select[ClaimAlert]:
    stmt = select(ClaimAlert)
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimAlert.insurer_id == principal.org_id)
    if _settles(principal):
        return stmt.where(ClaimAlert.hospital_id == principal.org_id)
    return stmt.where(false())


def list_alerts(
    session: Session, principal: Principal, open_only: bool, limit: int, offset: int
) -> tuple[list[ClaimAlert], int]:
    stmt = readable_alerts(principal)
    if open_only:
        stmt = stmt.where(ClaimAlert.resolved_at.is_(None))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(
        session.scalars(stmt.order_by(ClaimAlert.at.desc(), ClaimAlert.id).limit(limit).offset(offset))
    ), total
