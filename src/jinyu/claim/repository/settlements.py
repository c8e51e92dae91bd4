"""SQL on settlements, their messages and payout entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    Select,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ACTIVE_STATUSES,
    ClaimMessage,
    ClaimPayoutEntry,
    ClaimSettlement,
)
from jinyu.claim.repository.common import (
    _insurer_products,
    _is,
    _settles,
)
from jinyu.core.auth import OrgKind, Principal

# ------------------------------------------------------------------------------------------------ settlements


def readable_settlements(principal: Principal) -> Select[ClaimSettlement]:
    stmt = select(ClaimSettlement)
    if _settles(principal):
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


@dataclass(frozen=True)
class Ref:
    """What an idempotency check needs of a stored message or settlement (read without loading the row)."""

    id: str  # the settlement
    request_hash: str
    operation: str = ""


def settlement_key(
    session: Session, hospital_id: str, mdtrt_id: str, setl_id: str, channel: str
) -> Ref | None:
    """The settlement stored under this business key, if any (id and request hash only)."""
    t = ClaimSettlement.__table__.c
    stmt = select(t.id, t.request_hash).where(
        t.hospital_id == hospital_id, t.mdtrt_id == mdtrt_id, t.setl_id == setl_id, t.channel == channel
    )
    row = session.connection().execute(stmt).first()
    return None if row is None else Ref(row.id, row.request_hash)


@dataclass(frozen=True)
class Active:
    """A settlement in force (pending or settled, not interim) of a hospital visit."""

    id: str
    setl_id: str
    status: str
    channel: str


def active_in_visit(session: Session, hospital_id: str, mdtrt_id: str) -> Active | None:
    """The settlement in force of this hospital visit, if any (the caller holds the person-year's lock)."""
    t = ClaimSettlement.__table__.c
    stmt = (
        select(t.id, t.setl_id, t.status, t.channel)
        .where(
            t.hospital_id == hospital_id,
            t.mdtrt_id == mdtrt_id,
            t.status.in_(ACTIVE_STATUSES),
            t.interim.is_(False),
        )
        .order_by(t.created_at, t.id)
    )
    row = session.connection().execute(stmt).first()
    return None if row is None else Active(row.id, row.setl_id, row.status, row.channel)


def message(session: Session, hospital_id: str, msg_id: str) -> Ref | None:
    """The settlement a message id was used for, with that request's hash and operation."""
    t = ClaimMessage.__table__.c
    stmt = select(t.settlement_id, t.request_hash, t.operation).where(
        t.hospital_id == hospital_id, t.msg_id == msg_id
    )
    row = session.connection().execute(stmt).first()
    return None if row is None else Ref(row.settlement_id, row.request_hash, row.operation)


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
