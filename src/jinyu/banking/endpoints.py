"""HTTP handlers of bank accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request

from jinyu.banking import service
from jinyu.banking.schemas import AccountOut
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require

router = APIRouter(prefix="/banking", tags=["banking 银行数据"])


@router.get("/accounts", response_model=Page[AccountOut])
def list_accounts(
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.ACCOUNT_READ),
    bank_code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AccountOut]:
    """本机构可见的账户：银行看本行（及下级）开立的，企业看自己的 / accounts the caller's organisation may see."""
    key = request.app.state.settings.pseudonym_keys()
    return service.list_accounts(
        session, principal, request.app.state.analytics, key, bank_code, limit, offset
    )
