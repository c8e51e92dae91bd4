"""The joint-modelling register's page: the jobs the caller may see (the regulator all, a bank those it holds the
labels of) with their state, and the model versions they registered with data snapshot and metrics. It calls the
service the API's `/api/v1/joint/...` routes call, with the same principal, so the same scoping and audit apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.pagination import MAX_LIMIT
from jinyu.core.web import SessionDep
from jinyu.jointmodel import platform
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import render
from jinyu.web.session import visitor

router = APIRouter()

JOB_STATES = ("declared", "accepted", "done", "failed")
SHOWN_METRICS = ("auc", "ks", "rows", "epochs")  # the figures a reader compares; the rest stays in the API


@router.get("/console/joint")
def joint_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.JOINT_READ),
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Joint jobs (newest first, optionally of one state) and the registered model versions."""
    seen = visitor(request, principal)
    status = (status or "").strip() or None
    if status is not None and status not in JOB_STATES:
        message = f"应为 {'、'.join(JOB_STATES)} 之一 / one of {', '.join(JOB_STATES)}"
        raise InvalidInput(detail=f"status: {message}", fields=[FieldError("status", message)])
    jobs = platform.list_jobs(session, principal, status, limit=MAX_LIMIT).items  # the newest page
    models = platform.list_models(session, principal, limit=MAX_LIMIT).items
    banks = [j.guest_org_id for j in jobs] + [m.guest_org_id for m in models]
    return render(
        request,
        "joint.html",
        seen,
        jobs=jobs,
        models=models,
        names=org_names(session, banks),
        job_status=status,
        job_states=JOB_STATES,
        shown_metrics=SHOWN_METRICS,
    )
