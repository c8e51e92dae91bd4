"""HTTP handlers of consent grants."""

from __future__ import annotations

from fastapi import APIRouter, status

from jinyu.consent import service
from jinyu.consent.schemas import GrantCreate, GrantOut, GrantRevoke
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require

router = APIRouter(prefix="/consents", tags=["consent 授权"])


@router.post("", response_model=GrantOut, status_code=status.HTTP_201_CREATED)
def grant(
    data: GrantCreate, session: SessionDep, principal: Principal = require(Perm.CONSENT_GRANT)
) -> GrantOut:
    """企业授权银行在期限内为特定用途查看指定数据 / authorize a bank to see named data for a purpose."""
    return service.grant(session, principal, data)


@router.get("", response_model=Page[GrantOut])
def list_grants(
    session: SessionDep,
    principal: Principal = require(Perm.CONSENT_READ),
    enterprise_org_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[GrantOut]:
    return service.list_grants(session, principal, enterprise_org_id, limit, offset)


@router.get("/{grant_id}", response_model=GrantOut)
def get_grant(
    grant_id: str, session: SessionDep, principal: Principal = require(Perm.CONSENT_READ)
) -> GrantOut:
    return service.get(session, principal, grant_id)


@router.post("/{grant_id}/revoke", response_model=GrantOut)
def revoke(
    grant_id: str, data: GrantRevoke, session: SessionDep, principal: Principal = require(Perm.CONSENT_GRANT)
) -> GrantOut:
    """撤销授权，立即生效 / revoke a grant; takes effect at once."""
    return service.revoke(session, principal, grant_id, data)
