"""The bank's statement verification: upload a statement an enterprise presented, get the verdict and the lines
that do not agree with the hub's ledger (the API's `POST /risk/statements/verify`, same service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep
from jinyu.risk.statements import service as statements
from jinyu.risk.statements.parsing import MAX_BYTES
from jinyu.web import i18n
from jinyu.web.pages.common import page_requires
from jinyu.web.render import render
from jinyu.web.session import check_csrf, visitor

router = APIRouter()


@router.get("/console/statements")
def statements_page(request: Request, principal: Principal = page_requires(Perm.RISK_QUERY)) -> Response:
    return render(request, "statements.html", visitor(request, principal), result=None)


@router.post("/console/statements")
def verify_statement(
    request: Request,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    principal: Principal = page_requires(Perm.RISK_QUERY),
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, principal)
    if not check_csrf(request, csrf_token):
        error = i18n.translate("csrf", seen.lang)
        return render(request, "statements.html", seen, 403, result=None, error=error)
    data = file.file.read(MAX_BYTES + 1)  # the service refuses more than MAX_BYTES (413 page)
    key = request.app.state.settings.pseudonym_keys()
    result = statements.verify_statement(session, principal, request.app.state.analytics, key, data)
    return render(request, "statements.html", seen, result=result, filename=file.filename)
