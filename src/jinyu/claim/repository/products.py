"""SQL on products and their insurers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Select,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ClaimProduct,
    ClaimProductInsurer,
)
from jinyu.claim.repository.common import (
    _insurer_products,
    _is,
    _settles,
)
from jinyu.core.auth import OrgKind, Principal

# ------------------------------------------------------------------------------------------------ products


def readable_products(principal: Principal) -> Select[ClaimProduct]:
    """Insurers see their products (all versions); hospitals the active ones (published terms)."""
    stmt = select(ClaimProduct)
    if principal.sees_everything:
        return stmt
    if _is(principal, OrgKind.INSURER):
        return stmt.where(ClaimProduct.id.in_(_insurer_products(principal)))
    if _settles(principal):
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
