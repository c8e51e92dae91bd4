"""The bank's pages: an enterprise's credit card (only the sections its grants cover), a batch check of the
bank's loans with the results as CSV (each result stored for the bank: listed, reopened and downloaded later,
jinyu.risk.batches), and the bank's own inquiry history. The same services as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from jinyu.analytics.serving import shared_engine
from jinyu.consent.rules import Purpose
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.web import SessionDep
from jinyu.credit import service as credit
from jinyu.credit.render import lists, scalars
from jinyu.risk import batches, inquiries
from jinyu.risk.inquiries import KINDS
from jinyu.risk.tracing import service as tracing
from jinyu.risk.tracing.schemas import BatchRequest, BatchResult
from jinyu.web import i18n
from jinyu.web.pages.common import page_requires
from jinyu.web.pages.loans import stores
from jinyu.web.render import render
from jinyu.web.session import Visitor, check_csrf, finish, visitor

router = APIRouter()


def _invalid(field: str, exc: ValidationError) -> InvalidInput:
    fields = [FieldError(".".join(str(p) for p in e["loc"]) or field, e["msg"]) for e in exc.errors()]
    return InvalidInput(detail="; ".join(f"{f.field}: {f.message}" for f in fields), fields=fields)


@router.get("/console/card")
def card_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CREDIT_CARD_READ),
    uscc: Annotated[str | None, Query(max_length=32)] = None,
    purpose: Annotated[str, Query(max_length=64)] = Purpose.CREDIT_ASSESSMENT.value,
) -> Response:
    """A bank sees the sections granted for the purpose asked; the view is recorded for the enterprise."""
    seen = visitor(request, principal)
    uscc = (uscc or "").strip() or None
    if purpose not in Purpose.__members__.values():
        message = "用途不在列表中 / unknown purpose"
        raise InvalidInput(detail=f"purpose: {message}", fields=[FieldError("purpose", message)])
    card = None
    if uscc is not None:
        engine = shared_engine(request.app.state.settings.lake_dir)
        card = credit.card(session, principal, engine, uscc, Purpose(purpose), rendering="html")
    return render(
        request,
        "card.html",
        seen,
        card=card,
        uscc=uscc,
        purpose=purpose,
        purposes=[p.value for p in Purpose],
        scalars=scalars,
        lists=lists,
    )


@router.get("/console/batch")
def batch_page(
    request: Request, session: SessionDep, principal: Principal = page_requires(Perm.RISK_QUERY)
) -> Response:
    stored = batches.list_stored(session, principal)
    return render(request, "batch.html", visitor(request, principal), result=None, form={}, stored=stored)


@router.get("/console/batch/{batch_id}")
def stored_batch_page(
    request: Request,
    batch_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_QUERY),
) -> Response:
    """A stored batch reopened (404 for another bank's)."""
    result = batches.get_stored(session, principal, batch_id)
    form = {"from_date": result.from_date, "to_date": result.to_date, "analyses": result.analyses}
    return render(request, "batch.html", visitor(request, principal), result=result, form=form, stored=None)


@router.get("/console/batch/{batch_id}/csv")
def stored_batch_csv(
    request: Request,
    batch_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_QUERY),
) -> Response:
    return _csv_answer(request, batches.get_stored(session, principal, batch_id), visitor(request, principal))


def _csv_answer(request: Request, result: BatchResult, seen: Visitor) -> Response:
    name = batches.csv_filename(result)
    response = Response(
        batches.csv_text(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return finish(response, request, seen)


@router.post("/console/batch")
def run_batch(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_QUERY),
    from_date: Annotated[str, Form(max_length=10)] = "",
    to_date: Annotated[str, Form(max_length=10)] = "",
    analyses: Annotated[list[str] | None, Form()] = None,
    download: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Runs the batch (one inquiry, audited, as over the API); `download=csv` answers the rows as a CSV file."""
    seen = visitor(request, principal)
    form = {"from_date": from_date, "to_date": to_date, "analyses": analyses or []}
    if not check_csrf(request, csrf_token):
        error = i18n.translate("csrf", seen.lang)
        return render(request, "batch.html", seen, 403, result=None, form=form, error=error, stored=None)
    try:
        body = BatchRequest.model_validate(
            {"from_date": from_date, "to_date": to_date, "analyses": analyses or ["return_flow", "misuse"]}
        )
    except ValidationError as exc:
        raise _invalid("period", exc) from None
    result = tracing.run_batch(session, principal, stores(request), body)
    batches.store(session, principal, result)
    if download == "csv":
        return _csv_answer(request, result, seen)
    return render(request, "batch.html", seen, result=result, form=form, stored=None)


@router.get("/console/inquiries")
def inquiries_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_QUERY),
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    kind = kind or None
    rows = inquiries.list_inquiries(session, principal, kind, 100)
    return render(request, "inquiries.html", visitor(request, principal), rows=rows, kind=kind, kinds=KINDS)
