"""HTTP API of the audit trail; the app mounts `router` under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from jinyu.audit import checkpointing, service
from jinyu.audit.anchor import anchors_for
from jinyu.audit.schemas import (
    AuditEntryOut,
    AuditFilter,
    CheckpointListOut,
    CursorPage,
    PageRequest,
    VerifyResultOut,
)
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require

router = APIRouter(prefix="/audit", tags=["audit 审计"])


@router.get(
    "/verify",
    response_model=VerifyResultOut,
    summary="校验审计哈希链 / Verify the audit hash chain",
    description="逐条校验整条链，指出第一条被篡改、删除、调序或插入的记录；再核对签名检查点：链比最后一个检查点短、"
    "与之不符，或检查点文件本身不可信（签名、序号）时均不通过。"
    " / Walks the whole chain and names the first entry that was changed, removed, reordered or inserted; then"
    " holds it against the signed checkpoints: shorter than or different from the last one, or a checkpoint"
    " file whose signatures or sequence fail, does not pass.",
)
def verify_chain(
    request: Request, session: SessionDep, principal: Annotated[Principal, require(Perm.AUDIT_VERIFY)]
) -> VerifyResultOut:
    anchors = anchors_for(request.app.state.settings)
    return VerifyResultOut.of(service.verify(session, principal, anchors=anchors))


@router.get(
    "/checkpoints",
    response_model=CheckpointListOut,
    summary="签名检查点 / Signed checkpoints of the chain",
    description="最新在前，附整个检查点文件的校验结果（序号、链接、Ed25519 签名）。"
    " / Newest first, with the check of the whole checkpoint file (sequence, links, Ed25519 signatures).",
)
def list_checkpoints(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(Perm.AUDIT_VERIFY)],
    limit: Annotated[int, Query(ge=1, le=500, description="条数 / how many")] = 50,
) -> CheckpointListOut:
    anchors = anchors_for(request.app.state.settings)
    items, check = checkpointing.list_checkpoints(session, principal, anchors, limit=limit)
    return CheckpointListOut.of(items, check, anchors.sink.name)


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
