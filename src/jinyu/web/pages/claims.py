"""The hospital's and insurer's page: prepaid-fund books with their balances, open alerts, daily reconciliation
results (with the findings of those that corrected or found something) and the latest settlements."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jinyu.claim import service as claims
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import render
from jinyu.web.session import visitor

router = APIRouter()


@router.get("/console/settlements")
def settlements_page(
    request: Request, session: SessionDep, principal: Principal = page_requires(Perm.CLAIM_READ)
) -> Response:
    books = claims.list_books(session, principal, None, None, 100, 0).items
    alerts = claims.list_alerts(session, principal, True, 50, 0).items
    settled = claims.list_settlements(session, principal, limit=50)
    # a run that corrected or found something: its findings too (a matched run has none)
    runs = [
        r if r.status == "matched" else claims.get_run(session, principal, r.id)
        for r in claims.list_runs(session, principal, None, 30, 0).items
    ]
    ids = (
        [b.insurer_id for b in books]
        + [b.hospital_id for b in books]
        + [a.hospital_id for a in alerts]
        + [a.insurer_id for a in alerts]
    )
    ids += [s.hospital_id for s in settled.items] + [r.hospital_id for r in runs]
    return render(
        request,
        "settlements.html",
        visitor(request, principal),
        books=books,
        alerts=alerts,
        settlements=settled,
        runs=runs,
        names=org_names(session, ids),
    )
