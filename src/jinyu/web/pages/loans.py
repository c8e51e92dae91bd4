"""The bank's loan check: return flow of one of its loans, with the evidence paths (accounts as tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jinyu.analytics.flowindex import shared_indexes
from jinyu.analytics.serving import shared_engine
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep
from jinyu.risk.tracing import service as tracing
from jinyu.risk.tracing.schemas import TraceParams
from jinyu.web.pages.common import page_requires
from jinyu.web.render import render
from jinyu.web.session import visitor

router = APIRouter()


def stores(request: Request) -> tracing.Stores:
    """As the API's tracing endpoints read: the resident index once built, the lake until then."""
    settings = request.app.state.settings
    return tracing.Stores(
        request.app.state.analytics,
        settings.lake_dir,
        settings.pseudonym_keys(),
        flows=shared_indexes(),
        serving=shared_engine(settings.lake_dir),
    )


@router.get("/console/loans")
def loans_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_QUERY),
    loan_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    seen = visitor(request, principal)
    loan_id = (loan_id or "").strip() or None
    result = None
    if loan_id is not None:
        result = tracing.return_flow(session, principal, stores(request), loan_id, TraceParams())
    return render(request, "loans.html", seen, loan_id=loan_id, result=result)
