"""HTTP API of the audit trail; the app mounts `router` under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jinyu.audit import service
from jinyu.audit.schemas import AuditEntryOut, AuditFilter, CursorPage, PageRequest, VerifyResultOut
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require

router = APIRouter(prefix="/audit", tags=["audit 审计"])


@router.get(
    "/verify",
    response_model=VerifyResultOut,
    summary="校验审计哈希链 / Verify the audit hash chain",
    description="逐条校验整条链，指出第一条被篡改、删除、调序或插入的记录。"
    " / Walks the whole chain and names the first entry that was changed, removed, reordered or inserted.",
)
def verify_chain(
    session: SessionDep, principal: Annotated[Principal, require(Perm.AUDIT_VERIFY)]
) -> VerifyResultOut:
    return VerifyResultOut.of(service.verify(session, principal))


@router.get(
    "/entries",
    response_model=CursorPage[AuditEntryOut],
    summary="检索审计记录 / Search audit entries",
    description="按条件检索，最新在前；用 next_cursor 翻页。 / Newest first; page with next_cursor.",
)
def search_entries(
    session: SessionDep,
    principal: Annotated[Principal, require(Perm.AUDIT_READ)],
    filters: Annotated[AuditFilter, Query()],
    page: Annotated[PageRequest, Query()],
) -> CursorPage[AuditEntryOut]:
    return service.search(session, principal, filters, page)
