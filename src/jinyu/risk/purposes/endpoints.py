"""HTTP handlers of the purpose × use matrix, under /api/v1/risk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.risk.purposes import service
from jinyu.risk.purposes.schemas import PurposeMatrixIn, PurposeMatrixOut

router = APIRouter(tags=["risk 资金流风险核查"])


@router.get("/purpose-matrix", response_model=PurposeMatrixOut)
def get_purpose_matrix(
    session: SessionDep,
    principal: Principal = require(Perm.RISK_MATRIX_READ),
    version: Annotated[
        int | None, Query(ge=0, description="版本；缺省为当前 / version; default: in force")
    ] = None,
) -> PurposeMatrixOut:
    """贷款用途相容性矩阵 / the purpose × use matrix in force (or a given version)."""
    return service.show(session, principal, version)


@router.put("/purpose-matrix", response_model=PurposeMatrixOut)
def put_purpose_matrix(
    session: SessionDep,
    body: PurposeMatrixIn,
    principal: Principal = require(Perm.RISK_MATRIX_WRITE),
) -> PurposeMatrixOut:
    """存储矩阵新版本（监管）/ store a new version of the matrix (regulator supervisors; 409 if stale)."""
    return service.update(session, principal, body)
