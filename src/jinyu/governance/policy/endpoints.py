"""HTTP handlers of level approvals on consent grants."""

from __future__ import annotations

from fastapi import APIRouter, status

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.governance.policy import service
from jinyu.governance.policy.schemas import ApprovalCreate, ApprovalOut, ApprovalRevoke

router = APIRouter(prefix="/consents", tags=["policy 数据安全策略"])


@router.post("/{grant_id}/approvals", response_model=ApprovalOut, status_code=status.HTTP_201_CREATED)
def approve(
    grant_id: str,
    data: ApprovalCreate,
    session: SessionDep,
    principal: Principal = require(Perm.POLICY_APPROVE),
) -> ApprovalOut:
    """监管主管审批：在授权上开放 4–5 级数据，限时 / a supervisor opens level 4-5 data on a grant, time-boxed."""
    return service.approve(session, principal, grant_id, data)


@router.get("/{grant_id}/approvals", response_model=list[ApprovalOut])
def list_approvals(
    grant_id: str, session: SessionDep, principal: Principal = require(Perm.CONSENT_READ)
) -> list[ApprovalOut]:
    """授权上的级别审批 / the level approvals recorded on a grant."""
    return service.list_approvals(session, principal, grant_id)


@router.post("/{grant_id}/approvals/{approval_id}/revoke", response_model=ApprovalOut)
def revoke(
    grant_id: str,
    approval_id: str,
    data: ApprovalRevoke,
    session: SessionDep,
    principal: Principal = require(Perm.POLICY_APPROVE),
) -> ApprovalOut:
    """监管主管提前撤销级别审批（已审计）/ a supervisor ends a level approval early (audited)."""
    return service.revoke(session, principal, grant_id, approval_id, data)
