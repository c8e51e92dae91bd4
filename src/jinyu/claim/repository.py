"""Every SQL statement on the claim tables. `readable_*(principal)` scopes rows to the caller:
a hospital sees its own settlements and books; an insurer its products, enrollments, claims and books.

Row locks: `lock_enrollment` and `lock_book` are the mutexes of a person-year and of a prepaid book. On
PostgreSQL they are `SELECT ... FOR UPDATE`; SQLite has no row locks and serialises writers from a
transaction's first write, so a no-op UPDATE takes the write lock before the row is read.
Lock order everywhere: enrollment, then books (by insurer id), then the audit head.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ClaimAccumulator,
    ClaimAccumulatorEntry,
    ClaimAlert,
    ClaimEnrollment,
    ClaimLedgerBook,
    ClaimLedgerJournal,
    ClaimLedgerPosting,
    ClaimMessage,
    ClaimPayoutEntry,
    ClaimProduct,
    ClaimProductInsurer,
    ClaimReconciliationItem,
    ClaimReconciliationRun,
    ClaimSettlement,
)
from jinyu.core.auth import OrgKind, Principal
from jinyu.core.db import lock_for_update


def _row_locks(session: Session) -> bool:
    return lock_for_update(session.get_bind().dialect.name)


def set_lock_timeout(session: Session, milliseconds: int | None) -> None:
    """PostgreSQL only: give up waiting for a row lock after this long (None: wait without limit)."""
    if _row_locks(session):
        value = "0" if milliseconds is None else f"{max(int(milliseconds), 1)}ms"
        session.execute(text(f"SET LOCAL lock_timeout = '{value}'"))


def is_lock_timeout(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("55P03", "57014")  # lock_not_available, query_canceled


def _insurer_products(principal: Principal) -> Select[str]:
    return select(ClaimProductInsurer.product_id).where(ClaimProductInsurer.insurer_id == principal.org_id)


def _insurer_product_codes(principal: Principal) -> Select[str]:
    return select(ClaimProductInsurer.product_code).where(ClaimProductInsurer.insurer_id == principal.org_id)


def _is(principal: Principal, kind: OrgKind) -> bool:
    return principal.org_kind == kind


# ------------------------------------------------------------------------------------------------ products


def readable_products(principal: Principal) -> Select[ClaimProduct]:
    """Insurers see their products (all versions); hospitals the active ones (published terms)."""
    stmt = select(ClaimProduct)
    if principal.sees_everything:
        return stmt
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimProduct.id.in_(_insurer_products(principal)))
    if _is(principal, OrgKind.HOSPITAL):
        return stmt.where(ClaimProduct.status == "active")
    return stmt.where(false())


def get_product(session: Session, principal: Principal, product_id: str) -> ClaimProduct | None:
    return session.scalars(readable_products(principal).where(ClaimProduct.id == product_id)).first()


def get_product_unscoped(session: Session, product_id: str) -> ClaimProduct | None:
    return session.get(ClaimProduct, product_id)


def list_products(
    session: Session, principal: Principal, code: str | None, limit: int, offset: int
) -> tuple[list[ClaimProduct], int]:
    stmt = readable_products(principal)
    if code:
        stmt = stmt.where(ClaimProduct.code == code)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ClaimProduct.code, ClaimProduct.version.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def product_version_exists(session: Session, code: str, version: int) -> bool:
    stmt = select(ClaimProduct.id).where(ClaimProduct.code == code, ClaimProduct.version == version)
    return session.scalar(stmt) is not None


def active_product(session: Session, code: str) -> ClaimProduct | None:
    stmt = select(ClaimProduct).where(ClaimProduct.code == code, ClaimProduct.status == "active")
    return session.scalars(stmt).first()


def active_products_on(session: Session, day: dt.date) -> list[ClaimProduct]:
    stmt = select(ClaimProduct).where(
        ClaimProduct.status == "active", ClaimProduct.period_start <= day, ClaimProduct.period_end >= day
    )
    return list(session.scalars(stmt))


def product_insurers(session: Session, product_id: str) -> list[ClaimProductInsurer]:
    stmt = select(ClaimProductInsurer).where(ClaimProductInsurer.product_id == product_id)
    return list(session.scalars(stmt))


def insurer_in_product_code(session: Session, insurer_id: str, code: str) -> bool:
    stmt = select(ClaimProductInsurer.id).where(
        ClaimProductInsurer.insurer_id == insurer_id, ClaimProductInsurer.product_code == code
    )
    return session.scalar(stmt.limit(1)) is not None


# ------------------------------------------------------------------------------------------------ enrollment


def readable_enrollments(principal: Principal) -> Select[ClaimEnrollment]:
    stmt = select(ClaimEnrollment)
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimEnrollment.product_code.in_(_insurer_product_codes(principal)))
    return stmt.where(false())


def get_enrollment(session: Session, principal: Principal, enrollment_id: str) -> ClaimEnrollment | None:
    return session.scalars(readable_enrollments(principal).where(ClaimEnrollment.id == enrollment_id)).first()


def list_enrollments(
    session: Session, principal: Principal, product_code: str | None, limit: int, offset: int
) -> tuple[list[ClaimEnrollment], int]:
    stmt = readable_enrollments(principal)
    if product_code:
        stmt = stmt.where(ClaimEnrollment.product_code == product_code)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ClaimEnrollment.created_at, ClaimEnrollment.id).limit(limit).offset(offset)
    )
    return list(rows), total


def find_enrollment(session: Session, product_code: str, person_token: str) -> ClaimEnrollment | None:
    stmt = select(ClaimEnrollment).where(
        ClaimEnrollment.product_code == product_code, ClaimEnrollment.person_token == person_token
    )
    return session.scalars(stmt).first()


def coverage_on(
    session: Session, person_token: str, day: dt.date, product_code: str | None = None
) -> list[tuple[ClaimEnrollment, ClaimProduct]]:
    """The person's enrollments whose active product covers `day`."""
    stmt = (
        select(ClaimEnrollment, ClaimProduct)
        .join(ClaimProduct, ClaimProduct.code == ClaimEnrollment.product_code)
        .where(
            ClaimEnrollment.person_token == person_token,
            ClaimProduct.status == "active",
            ClaimProduct.period_start <= day,
            ClaimProduct.period_end >= day,
        )
    )
    if product_code:
        stmt = stmt.where(ClaimEnrollment.product_code == product_code)
    return [(e, p) for e, p in session.execute(stmt)]


def lock_enrollment(session: Session, enrollment_id: str) -> ClaimEnrollment:
    """Take the person-year's mutex for this transaction and return the row as now committed."""
    if not _row_locks(session):
        session.execute(
            update(ClaimEnrollment)
            .where(ClaimEnrollment.id == enrollment_id)
            .values(status=ClaimEnrollment.status),
            execution_options={"synchronize_session": False},
        )
    stmt = (
        select(ClaimEnrollment)
        .where(ClaimEnrollment.id == enrollment_id)
        .execution_options(populate_existing=True)
    )
    if _row_locks(session):
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one()
    return row


def accumulators(session: Session, enrollment_id: str) -> dict[tuple[str, str], ClaimAccumulator]:
    stmt = (
        select(ClaimAccumulator)
        .where(ClaimAccumulator.enrollment_id == enrollment_id)
        .execution_options(populate_existing=True)
    )
    return {(a.kind, a.code): a for a in session.scalars(stmt)}


def accumulator_entry_sums(session: Session, enrollment_id: str) -> dict[tuple[str, str], Decimal]:
    """Recompute accumulators from their append-only entries (a check of the cached totals)."""
    stmt = select(ClaimAccumulatorEntry.kind, ClaimAccumulatorEntry.code, ClaimAccumulatorEntry.amount).where(
        ClaimAccumulatorEntry.enrollment_id == enrollment_id
    )
    sums: dict[tuple[str, str], Decimal] = {}
    for kind, code, amount in session.execute(stmt):
        sums[(kind, code)] = sums.get((kind, code), Decimal("0.00")) + amount
    return sums


def accumulator_entries_of(session: Session, settlement_id: str) -> list[ClaimAccumulatorEntry]:
    stmt = select(ClaimAccumulatorEntry).where(ClaimAccumulatorEntry.settlement_id == settlement_id)
    return list(session.scalars(stmt))


# ------------------------------------------------------------------------------------------------ settlements


def readable_settlements(principal: Principal) -> Select[ClaimSettlement]:
    stmt = select(ClaimSettlement)
    if _is(principal, OrgKind.HOSPITAL):
        return stmt.where(ClaimSettlement.hospital_id == principal.org_id)
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimSettlement.product_id.in_(_insurer_products(principal)))
    return stmt.where(false())


def get_settlement(session: Session, principal: Principal, settlement_id: str) -> ClaimSettlement | None:
    return session.scalars(readable_settlements(principal).where(ClaimSettlement.id == settlement_id)).first()


def get_settlement_unscoped(session: Session, settlement_id: str) -> ClaimSettlement | None:
    return session.get(ClaimSettlement, settlement_id, populate_existing=True)


def list_settlements(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    business_date: dt.date | None,
    mdtrt_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ClaimSettlement], int]:
    stmt = readable_settlements(principal)
    if status:
        stmt = stmt.where(ClaimSettlement.status == status)
    if business_date:
        stmt = stmt.where(ClaimSettlement.business_date == business_date)
    if mdtrt_id:
        stmt = stmt.where(ClaimSettlement.mdtrt_id == mdtrt_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (ClaimSettlement.created_at.desc(), ClaimSettlement.id)
    return list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset))), total


def settlement_by_key(
    session: Session, hospital_id: str, mdtrt_id: str, setl_id: str, channel: str
) -> ClaimSettlement | None:
    stmt = (
        select(ClaimSettlement)
        .where(
            ClaimSettlement.hospital_id == hospital_id,
            ClaimSettlement.mdtrt_id == mdtrt_id,
            ClaimSettlement.setl_id == setl_id,
            ClaimSettlement.channel == channel,
        )
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def message(session: Session, hospital_id: str, msg_id: str) -> ClaimMessage | None:
    stmt = select(ClaimMessage).where(ClaimMessage.hospital_id == hospital_id, ClaimMessage.msg_id == msg_id)
    return session.scalars(stmt).first()


def direct_settlements_of_day(session: Session, hospital_id: str, day: dt.date) -> list[ClaimSettlement]:
    stmt = (
        select(ClaimSettlement)
        .where(
            ClaimSettlement.hospital_id == hospital_id,
            ClaimSettlement.business_date == day,
            ClaimSettlement.channel == "direct",
        )
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def payout_entries_of(session: Session, settlement_id: str) -> list[ClaimPayoutEntry]:
    stmt = select(ClaimPayoutEntry).where(ClaimPayoutEntry.settlement_id == settlement_id)
    return list(session.scalars(stmt))


# ------------------------------------------------------------------------------------------------ ledger


def readable_books(principal: Principal) -> Select[ClaimLedgerBook]:
    stmt = select(ClaimLedgerBook)
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimLedgerBook.insurer_id == principal.org_id)
    if _is(principal, OrgKind.HOSPITAL):
        return stmt.where(ClaimLedgerBook.hospital_id == principal.org_id)
    return stmt.where(false())


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
    if _is(principal, OrgKind.HOSPITAL):
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


# ------------------------------------------------------------------------------------------------ reconciliation


def readable_runs(principal: Principal) -> Select[ClaimReconciliationRun]:
    stmt = select(ClaimReconciliationRun)
    if _is(principal, OrgKind.HOSPITAL):
        return stmt.where(ClaimReconciliationRun.hospital_id == principal.org_id)
    if _is(principal, OrgKind.INSURER):
        # An insurer sees the runs of hospitals it keeps a book with.
        hospitals = select(ClaimLedgerBook.hospital_id).where(ClaimLedgerBook.insurer_id == principal.org_id)
        return stmt.where(ClaimReconciliationRun.hospital_id.in_(hospitals))
    return stmt.where(false())


def get_run(session: Session, principal: Principal, run_id: str) -> ClaimReconciliationRun | None:
    return session.scalars(readable_runs(principal).where(ClaimReconciliationRun.id == run_id)).first()


def list_runs(
    session: Session, principal: Principal, business_date: dt.date | None, limit: int, offset: int
) -> tuple[list[ClaimReconciliationRun], int]:
    stmt = readable_runs(principal)
    if business_date:
        stmt = stmt.where(ClaimReconciliationRun.business_date == business_date)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (ClaimReconciliationRun.created_at.desc(), ClaimReconciliationRun.id)
    return list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset))), total


def run_for_file(
    session: Session, hospital_id: str, day: dt.date, file_hash: str
) -> ClaimReconciliationRun | None:
    stmt = select(ClaimReconciliationRun).where(
        ClaimReconciliationRun.hospital_id == hospital_id,
        ClaimReconciliationRun.business_date == day,
        ClaimReconciliationRun.file_hash == file_hash,
    )
    return session.scalars(stmt).first()


def run_items(session: Session, run_id: str) -> list[ClaimReconciliationItem]:
    stmt = select(ClaimReconciliationItem).where(ClaimReconciliationItem.run_id == run_id)
    return list(
        session.scalars(stmt.order_by(ClaimReconciliationItem.mdtrt_id, ClaimReconciliationItem.setl_id))
    )


# ------------------------------------------------------------------------------------------------ reports


def _report_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_everything:
        return true()
    if _is(principal, OrgKind.INSURER):
        return ClaimPayoutEntry.insurer_id == principal.org_id
    return false()


REPORT_KEYS: dict[str, Any] = {
    "insurer": ClaimPayoutEntry.insurer_id,
    "hospital": ClaimPayoutEntry.hospital_id,
    "liability": ClaimPayoutEntry.liability,
    "month": ClaimPayoutEntry.month,
    "product": ClaimPayoutEntry.product_code,
    "all": literal("all"),
}


def payout_report(
    session: Session, principal: Principal, by: str, month_from: str | None, month_to: str | None
) -> list[tuple[str, int, Decimal]]:
    """Per key: settlements with a net payout, and the net payout (reversals included)."""
    key = REPORT_KEYS[by]
    conditions = [_report_scope(principal)]
    if month_from:
        conditions.append(ClaimPayoutEntry.month >= month_from)
    if month_to:
        conditions.append(ClaimPayoutEntry.month <= month_to)
    per_settlement = (
        select(key.label("k"), ClaimPayoutEntry.settlement_id, func.sum(ClaimPayoutEntry.amount).label("net"))
        .where(and_(*conditions))
        .group_by(key, ClaimPayoutEntry.settlement_id)
        .subquery()
    )
    stmt = (
        select(
            per_settlement.c.k,
            # a literal 0: a bound Money parameter is text on SQLite, and SQLite ranks any number below text
            func.count().filter(per_settlement.c.net > literal_column("0")),
            func.sum(per_settlement.c.net),
        )
        .group_by(per_settlement.c.k)
        .order_by(per_settlement.c.k)
    )
    return [(str(k), int(n or 0), _decimal(total)) for k, n, total in session.execute(stmt)]


def premium_by_insurer(session: Session, principal: Principal) -> list[tuple[str, str, Decimal]]:
    """(insurer id, share text, premium of its products' enrollments) for the caller's scope."""
    premium = (
        select(ClaimEnrollment.product_code, func.sum(ClaimEnrollment.premium).label("premium"))
        .where(ClaimEnrollment.status != "cancelled")
        .group_by(ClaimEnrollment.product_code)
        .subquery()
    )
    active = select(ClaimProduct.id).where(ClaimProduct.status == "active")
    stmt = (
        select(ClaimProductInsurer.insurer_id, ClaimProductInsurer.share, premium.c.premium)
        .join(premium, premium.c.product_code == ClaimProductInsurer.product_code)
        .where(ClaimProductInsurer.product_id.in_(active))
    )
    if not principal.sees_everything:
        stmt = stmt.where(ClaimProductInsurer.insurer_id == principal.org_id)
    return [(i, s, _decimal(p)) for i, s, p in session.execute(stmt)]


def _decimal(value: Any) -> Decimal:
    return Decimal("0.00") if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def latest_product(session: Session, code: str) -> ClaimProduct | None:
    stmt = select(ClaimProduct).where(ClaimProduct.code == code).order_by(ClaimProduct.version.desc())
    return session.scalars(stmt.limit(1)).first()
