"""SQL of reconciliation runs and of the reports."""

from __future__ import annotations

import datetime as dt
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
    true,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ClaimEnrollment,
    ClaimLedgerBook,
    ClaimPayoutEntry,
    ClaimProduct,
    ClaimProductInsurer,
    ClaimReconciliationItem,
    ClaimReconciliationRun,
    ClaimSettlement,
)
from jinyu.claim.repository.common import (
    _is,
    _settles,
)
from jinyu.core.auth import OrgKind, Principal
from jinyu.core.db import fen_sum, yuan_of_fen

# ------------------------------------------------------------------------------------------------ reconciliation


def readable_runs(principal: Principal) -> Select[ClaimReconciliationRun]:
    stmt = select(ClaimReconciliationRun)
    if _settles(principal):
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
) -> list[tuple[str, int, Decimal, int]]:
    """Per key: settlements with a net payout, the net payout (reversals included), and the distinct persons
    paid (the group size small-cell suppression counts)."""
    key = REPORT_KEYS[by]
    conditions = [_report_scope(principal)]
    if month_from:
        conditions.append(ClaimPayoutEntry.month >= month_from)
    if month_to:
        conditions.append(ClaimPayoutEntry.month <= month_to)
    per_settlement = (
        select(
            key.label("k"),
            ClaimPayoutEntry.settlement_id,
            ClaimSettlement.person_token,
            fen_sum(ClaimPayoutEntry.amount).label("net"),
        )
        .join(ClaimSettlement, ClaimSettlement.id == ClaimPayoutEntry.settlement_id)
        .where(and_(*conditions))
        .group_by(key, ClaimPayoutEntry.settlement_id, ClaimSettlement.person_token)
        .subquery()
    )
    paid = per_settlement.c.net > literal_column("0")
    stmt = (
        select(
            per_settlement.c.k,
            func.count().filter(paid),
            func.sum(per_settlement.c.net),  # whole fen: exact
            func.count(per_settlement.c.person_token.distinct()).filter(paid),
        )
        .group_by(per_settlement.c.k)
        .order_by(per_settlement.c.k)
    )
    return [
        (str(k), int(n or 0), yuan_of_fen(total), int(persons or 0))
        for k, n, total, persons in session.execute(stmt)
    ]


def premium_by_insurer(session: Session, principal: Principal) -> list[tuple[str, str, Decimal]]:
    """(insurer id, share text, premium of its products' enrollments) for the caller's scope."""
    premium = (
        select(ClaimEnrollment.product_code, fen_sum(ClaimEnrollment.premium).label("premium"))
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
    return [(i, s, yuan_of_fen(p)) for i, s, p in session.execute(stmt)]


def latest_product(session: Session, code: str) -> ClaimProduct | None:
    stmt = select(ClaimProduct).where(ClaimProduct.code == code).order_by(ClaimProduct.version.desc())
    return session.scalars(stmt.limit(1)).first()
