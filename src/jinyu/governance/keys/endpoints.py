"""HTTP handler of the pseudonym keys' status (versions and rotation state; never key material)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import require
from jinyu.governance.keys import service
from jinyu.governance.keys.schemas import KeyStatusOut

router = APIRouter(prefix="/keys", tags=["keys 假名密钥"])


@router.get("/pseudonym", response_model=KeyStatusOut)
def pseudonym_key_status(request: Request, principal: Principal = require(Perm.KEYS_READ)) -> KeyStatusOut:
    """假名密钥版本与轮换状态（监管主管、平台管理员）/ pseudonym key versions and rotation state."""
    return service.status(principal, request.app.state.settings.pseudonym_keys())
