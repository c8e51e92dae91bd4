"""HTTP handler of statement verification: POST /api/v1/risk/statements/verify (multipart upload)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.risk.statements import service
from jinyu.risk.statements.parsing import MAX_BYTES, StatementFormat
from jinyu.risk.statements.schemas import VerificationResult

router = APIRouter(prefix="/statements", tags=["risk 资金流风险核查"])


@router.post("/verify", response_model=VerificationResult)
def verify(
    request: Request,
    session: SessionDep,
    file: Annotated[
        UploadFile, File(description="对账单：CSV 或 camt.053 XML / the statement: CSV or camt.053")
    ],
    format: Annotated[
        StatementFormat | None, Form(description="csv / camt053；不填则自动识别 / auto")
    ] = None,
    principal: Principal = require(Perm.RISK_QUERY),
) -> VerificationResult:
    """核验企业提交的对公流水：须有企业授权（statements / statement_verification）/ verify a presented statement.

    Returns the verdict (genuine / suspicious / fabricated), match rates, and the evidence: fabricated, hidden
    and altered lines and running-balance breaks, with counterparties' account numbers masked.
    """
    data = file.file.read(MAX_BYTES + 1)
    key = request.app.state.settings.pseudonym_keys()
    return service.verify_statement(session, principal, request.app.state.analytics, key, data, format)
