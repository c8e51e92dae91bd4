"""SQL on enrollments and accumulators; `lock_enrollment` is the person-year mutex."""

from __future__ import annotations

import datetime as dt
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
    ClaimAccumulator,
    ClaimAccumulatorEntry,
    ClaimEnrollment,
    ClaimProduct,
)
from jinyu.claim.repository.common import (
    _insurer_product_codes,
    _is,
    _row_locks,
)
from jinyu.core.auth import OrgKind, Principal

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


def enrolled_tokens(session: Session, product_code: str, person_tokens: list[str]) -> set[str]:
    """Which of these persons are already enrolled in the product (any state)."""
    found: set[str] = set()
    for start in range(0, len(person_tokens), 500):
        stmt = select(ClaimEnrollment.person_token).where(
            ClaimEnrollment.product_code == product_code,
            ClaimEnrollment.person_token.in_(person_tokens[start : start + 500]),
        )
        found.update(session.scalars(stmt))
    return found


def person_known(session: Session, person_token: str) -> bool:
    """Whether the platform knows this person at all: enrolled in any product, in any year or state."""
    stmt = select(ClaimEnrollment.id).where(ClaimEnrollment.person_token == person_token).limit(1)
    return session.execute(stmt).first() is not None


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
