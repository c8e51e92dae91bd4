"""Queries on consent grants; `readable(principal)` scopes them to the two parties and regulators."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from jinyu.consent.models import Grant
from jinyu.core.auth import Principal
from jinyu.party.models import Organisation


def readable(principal: Principal) -> Select[Grant]:
    stmt = select(Grant)
    if principal.sees_everything:
        return stmt
    return stmt.where(
        or_(Grant.enterprise_org_id == principal.org_id, Grant.grantee_org_id == principal.tenant_id)
    )


def get(session: Session, principal: Principal, grant_id: str) -> Grant | None:
    return session.scalars(readable(principal).where(Grant.id == grant_id)).first()


def list_(
    session: Session, principal: Principal, enterprise_org_id: str | None, limit: int, offset: int
) -> tuple[list[Grant], int]:
    stmt = readable(principal)
    if enterprise_org_id:
        stmt = stmt.where(Grant.enterprise_org_id == enterprise_org_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(session.scalars(stmt.order_by(Grant.created_at.desc()).limit(limit).offset(offset))), total


def candidates(
    session: Session, enterprise_org_id: str, grantee_tenant_id: str, at: dt.datetime
) -> list[Grant]:
    """Active grants of one enterprise to one bank tenant that have started and not yet ended."""
    stmt = select(Grant).where(
        Grant.enterprise_org_id == enterprise_org_id,
        Grant.grantee_org_id == grantee_tenant_id,
        Grant.state == "active",
        Grant.valid_from <= at,
        Grant.valid_until > at,
    )
    return list(session.scalars(stmt))


def in_force_to_tenant(
    session: Session, grantee_tenant_id: str, purpose: str, at: dt.datetime
) -> list[tuple[str, list[str], str]]:
    """Every active, started, unexpired grant of any registered enterprise to one bank tenant for one purpose,
    as (grant id, scopes, the enterprise's USCC), oldest first: one query, whatever the number of enterprises
    the caller asks about (it filters them)."""
    stmt = (
        select(Grant.id, Grant.scopes, Organisation.code)
        .join(Organisation, Organisation.id == Grant.enterprise_org_id)
        .where(
            Organisation.kind_group == "enterprise",
            Grant.grantee_org_id == grantee_tenant_id,
            Grant.purpose == purpose,
            Grant.state == "active",
            Grant.valid_from <= at,
            Grant.valid_until > at,
        )
        .order_by(Grant.created_at, Grant.id)
    )
    return [(gid, list(scopes), code) for gid, scopes, code in session.execute(stmt)]
