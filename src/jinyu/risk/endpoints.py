"""The risk API under /api/v1/risk: sub-routers of each service plus the regulator's indicators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.risk import batch_endpoints, inquiries
from jinyu.risk.purposes import endpoints as purposes_endpoints
from jinyu.risk.schemas import InquiryStat
from jinyu.risk.statements import endpoints as statements_endpoints
from jinyu.risk.tracing import endpoints as tracing_endpoints

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

router = APIRouter(prefix="/risk", tags=["risk 资金流风险核查"])


@router.get("/inquiries/stats", response_model=list[InquiryStat])
def inquiry_stats(
    session: SessionDep,
    principal: Principal = require(Perm.RISK_STATS),
    from_month: Annotated[str | None, Query(pattern=MONTH)] = None,
    to_month: Annotated[str | None, Query(pattern=MONTH)] = None,
) -> list[InquiryStat]:
    """各银行按月的查询量、风险发现与风险金额（监管）/ inquiries, risky findings and amounts by bank and month."""
    return inquiries.inquiry_stats(session, principal, from_month, to_month)


# Sub-routers of the risk services are included here, one line each:
# router.include_router(<service>.endpoints.router)
router.include_router(statements_endpoints.router)
router.include_router(tracing_endpoints.router)
router.include_router(batch_endpoints.router)
router.include_router(purposes_endpoints.router)
