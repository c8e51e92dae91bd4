"""The enterprise's own pages: real-name registration (实名注册) and who read its data (谁查看了我的数据).

Grants (grant and revoke per card section) are on the consents page. Registration and the access history call
the API's services with the same principal: the registry check, the audit and the 403 until the registration is
verified are theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from jinyu.audit import disclosure
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput, JinyuError
from jinyu.core.web import SessionDep
from jinyu.credit import service as credit
from jinyu.party import service as party
from jinyu.party.schemas import RegistrationSubmit
from jinyu.web import i18n
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import bilingual, render
from jinyu.web.session import check_csrf, finish, visitor

router = APIRouter()


@router.get("/console/registration")
def registration_page(
    request: Request, session: SessionDep, principal: Principal = page_requires(Perm.ENTERPRISE_REGISTER)
) -> Response:
    return _registration(request, session, principal)


def _registration(
    request: Request, session: Session, principal: Principal, status: int = 200, error: str | None = None
) -> Response:
    found = party.list_registrations(session, principal, None, 1, 0).items
    current = found[0] if found else None
    org = party.resolve_org(session, principal.org_id)
    return render(
        request,
        "registration.html",
        visitor(request, principal),
        status,
        registration=current,
        can_submit=current is None or current.state == "rejected",
        org=org,
        error=error,
    )


@router.post("/console/registration")
def submit_registration(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.ENTERPRISE_REGISTER),
    legal_rep_name: Annotated[str, Form(max_length=50)] = "",
    legal_rep_id: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, principal)
    if not check_csrf(request, csrf_token):
        return _registration(request, session, principal, 403, i18n.translate("csrf", seen.lang))
    try:
        data = RegistrationSubmit(legal_rep_name=legal_rep_name.strip(), legal_rep_id=SecretStr(legal_rep_id))
    except ValidationError:
        message = "请填写法定代表人姓名 / give the legal representative's name"
        raise InvalidInput(detail=message, fields=[FieldError("legal_rep_name", message)]) from None
    party.submit_registration(session, principal, data, request.app.state.settings.pseudonym_keys())
    return finish(RedirectResponse("/console/registration", status_code=303), request, seen)


@router.get("/console/data-access")
def data_access_page(
    request: Request, session: SessionDep, principal: Principal = page_requires(Perm.ENTERPRISE_REGISTER)
) -> Response:
    """Card views (sections, basis, grants) and every other read of the enterprise's data by others."""
    seen = visitor(request, principal)
    org = party.resolve_org(session, principal.org_id)
    views, notice = [], None
    if org is not None and org.uscc:
        try:
            views = credit.list_views(session, principal, org.uscc, 100, 0).items
        except JinyuError as exc:  # not yet registered: the history opens once the registration is verified
            if exc.status != 403:
                raise
            notice = bilingual(exc.detail or exc.title, seen.lang)
    reads = disclosure.reads_of_org(session, principal, principal.org_id, 100)
    return render(
        request,
        "data_access.html",
        seen,
        views=views,
        reads=reads,
        names=org_names(session, [r.reader_org_id for r in reads]),
        notice=notice,
    )
