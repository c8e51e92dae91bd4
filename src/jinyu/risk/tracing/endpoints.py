"""HTTP handlers of return-flow and misappropriation checks, under /api/v1/risk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from jinyu.analytics.flowindex import shared_indexes
from jinyu.analytics.serving import shared_engine
from jinyu.core.auth import Perm, Principal
from jinyu.core.onetrip import Caller, in_one_trip, require_in_trip
from jinyu.core.web import SessionDep, require
from jinyu.risk import batches
from jinyu.risk.tracing import service
from jinyu.risk.tracing.schemas import BatchRequest, BatchResult, MisuseResult, ReturnFlowResult, TraceParams

router = APIRouter(tags=["risk 资金流风险核查"])

LoanId = Annotated[str, Path(min_length=1, max_length=64, description="借据号 / loan id")]


def _stores(request: Request) -> service.Stores:
    """The serving process: hops from the resident transfer index once it is built (the first request starts
    the build in the background; the lake's SQL answers meanwhile), per-loan statements on in-memory tables."""
    settings = request.app.state.settings
    return service.Stores(
        request.app.state.analytics,
        settings.lake_dir,
        settings.pseudonym_keys(),
        flows=shared_indexes(),
        serving=shared_engine(settings.lake_dir),
    )


def _json(result: BaseModel) -> Response:
    """The result as JSON, written in the handler's worker-thread trip (`core.onetrip`: the caller's check, the
    trace, its inquiry and audit records and the commit, in one trip): the bytes FastAPI's `response_model` path writes
    (pydantic's JSON of the model, by alias), without its own worker-thread trip to validate again the model
    the service has just built (the declared `response_model` still documents the answer)."""
    return Response(content=result.model_dump_json(by_alias=True), media_type="application/json")


# A one-loan check: `service.return_flow` or `service.misuse`.
OneLoanCheck = Callable[[Session, Principal, service.Stores, str, TraceParams], BaseModel]


async def one_loan(
    request: Request, session: Session, caller: Caller, loan_id: str, params: TraceParams, check: OneLoanCheck
) -> Response:
    """The work of the four one-loan routes, and of their direct GET route (`risk.tracing.fastroute`): the
    caller's check, the trace, its records, the commit and the answer's JSON in one worker-thread trip."""
    return await in_one_trip(
        session, caller, lambda p: _json(check(session, p, _stores(request), loan_id, params))
    )


@router.get("/loans/{loan_id}/return-flow", response_model=ReturnFlowResult)
async def get_return_flow(
    request: Request,
    session: SessionDep,
    loan_id: LoanId,
    params: Annotated[TraceParams, Query()],
    caller: Caller = require_in_trip(Perm.RISK_QUERY),
) -> Response:
    """信贷资金回流核查（参数在查询串中）/ return flow of one of your loans (parameters in the query string)."""
    return await one_loan(request, session, caller, loan_id, params, service.return_flow)


@router.post("/loans/{loan_id}/return-flow", response_model=ReturnFlowResult)
async def post_return_flow(
    request: Request,
    session: SessionDep,
    loan_id: LoanId,
    params: TraceParams,
    caller: Caller = require_in_trip(Perm.RISK_QUERY),
) -> Response:
    """信贷资金回流核查 / return flow of one of your loans: share reaching the borrower or related parties."""
    return await one_loan(request, session, caller, loan_id, params, service.return_flow)


@router.get("/loans/{loan_id}/misuse", response_model=MisuseResult)
async def get_misuse(
    request: Request,
    session: SessionDep,
    loan_id: LoanId,
    params: Annotated[TraceParams, Query()],
    caller: Caller = require_in_trip(Perm.RISK_QUERY),
) -> Response:
    """信贷资金挪用核查（参数在查询串中）/ misappropriation of one of your loans (parameters in the query)."""
    return await one_loan(request, session, caller, loan_id, params, service.misuse)


@router.post("/loans/{loan_id}/misuse", response_model=MisuseResult)
async def post_misuse(
    request: Request,
    session: SessionDep,
    loan_id: LoanId,
    params: TraceParams,
    caller: Caller = require_in_trip(Perm.RISK_QUERY),
) -> Response:
    """信贷资金挪用核查 / misappropriation: securities, real estate, other loans, shells vs declared purpose."""
    return await one_loan(request, session, caller, loan_id, params, service.misuse)


@router.post("/batches", response_model=BatchResult)
def post_batch(
    request: Request,
    session: SessionDep,
    body: BatchRequest,
    principal: Principal = require(Perm.RISK_QUERY),
) -> BatchResult:
    """批量核查本行期间内发放的全部贷款，结果为本行保存 / check every loan your bank disbursed in a period
    (results + summary); the result is stored for the bank (GET /risk/batches lists it)."""
    result = service.run_batch(session, principal, _stores(request), body)
    batches.store(session, principal, result)
    return result
