"""HTTP handlers of level approvals on consent grants, and of de-identified extracts."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from jinyu.analytics import Lake
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.governance.policy import extract, service
from jinyu.governance.policy.schemas import ApprovalCreate, ApprovalOut, ApprovalRevoke, ExtractIn, ExtractOut

router = APIRouter(tags=["policy 数据安全策略"])


@router.post(
    "/consents/{grant_id}/approvals", response_model=ApprovalOut, status_code=status.HTTP_201_CREATED
)
def approve(
    grant_id: str,
    data: ApprovalCreate,
    session: SessionDep,
    principal: Principal = require(Perm.POLICY_APPROVE),
) -> ApprovalOut:
    """监管主管审批：在授权上开放 4–5 级数据，限时 / a supervisor opens level 4-5 data on a grant, time-boxed."""
    return service.approve(session, principal, grant_id, data)


@router.get("/consents/{grant_id}/approvals", response_model=list[ApprovalOut])
def list_approvals(
    grant_id: str, session: SessionDep, principal: Principal = require(Perm.CONSENT_READ)
) -> list[ApprovalOut]:
    """授权上的级别审批 / the level approvals recorded on a grant."""
    return service.list_approvals(session, principal, grant_id)


@router.post("/consents/{grant_id}/approvals/{approval_id}/revoke", response_model=ApprovalOut)
def revoke(
    grant_id: str,
    approval_id: str,
    data: ApprovalRevoke,
    session: SessionDep,
    principal: Principal = require(Perm.POLICY_APPROVE),
) -> ApprovalOut:
    """监管主管提前撤销级别审批（已审计）/ a supervisor ends a level approval early (audited)."""
    return service.revoke(session, principal, grant_id, approval_id, data)


@router.post("/extracts", response_model=ExtractOut)
def make_extract(
    data: ExtractIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.GOVERNANCE_READ_ALL),
) -> ExtractOut:
    """脱敏提取：直接标识重新假名化、准标识 k-匿名、4 级以上列拒绝（已审计）/ a de-identified extract of a
    dataset: direct identifiers re-keyed for this extract, quasi-identifiers k-anonymous, level 4+ refused."""
    lake = Lake(request.app.state.settings.lake_dir)
    return extract.extract(session, principal, request.app.state.analytics, lake, data)
