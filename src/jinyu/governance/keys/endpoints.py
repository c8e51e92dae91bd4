"""HTTP handlers of the pseudonym keys: status (versions and rotation state; never key material) and the
translation of old tokens to the current version."""

from __future__ import annotations

from fastapi import APIRouter, Request

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.governance.keys import service
from jinyu.governance.keys.schemas import KeyStatusOut, TranslateBatchOut, TranslateIn

router = APIRouter(prefix="/keys", tags=["keys 假名密钥"])


@router.get("/pseudonym", response_model=KeyStatusOut)
def pseudonym_key_status(request: Request, principal: Principal = require(Perm.KEYS_READ)) -> KeyStatusOut:
    """假名密钥版本与轮换状态（监管主管、平台管理员）/ pseudonym key versions and rotation state."""
    return service.status(principal, request.app.state.settings.pseudonym_keys())


@router.post("/translate", response_model=TranslateBatchOut)
def translate_tokens(
    data: TranslateIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.KEYS_TRANSLATE),
) -> TranslateBatchOut:
    """旧版本令牌换算为当前版本（宽限期内，只向前，已审计）/ old tokens (from earlier exports and reports) as the
    current key version, during the grace period; forward only, at most 1,000, audited."""
    ring = request.app.state.settings.pseudonym_keys()
    return service.translate_tokens(session, principal, ring, data.tokens)
