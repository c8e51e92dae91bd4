"""The enterprise's grants (grant, revoke); banks and regulators see the grants they may."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate, GrantRevoke
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import SHANGHAI, local, utcnow
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.web import SessionDep
from jinyu.web import i18n
from jinyu.web.pages.bankpick import bank_groups
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import render
from jinyu.web.session import check_csrf, finish, visitor

router = APIRouter()

# The form offers the credit card's sections one by one (the order the card shows them), then the other data a
# bank may be granted. `patents` is the older name of the IP section: existing grants still show it.
CARD_SECTIONS = (Scope.REGISTRATION, Scope.TAX, Scope.HEADCOUNT, Scope.IP, Scope.JUDICIAL, Scope.PENALTIES)
OTHER_SCOPES = (Scope.ACCOUNTS, Scope.STATEMENTS)


@router.get("/console/consents")
def consents_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CONSENT_READ),
    bank_q: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _page(request, session, principal, bank_q=bank_q)


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    status: int = 200,
    error: str | None = None,
    bank_q: str = "",
) -> Response:
    grants = consent.list_grants(session, principal, None, 200, 0).items
    can_grant = principal.has(Perm.CONSENT_GRANT)
    settings = request.app.state.settings
    groups = bank_groups(session, principal, settings, bank_q) if can_grant else []
    default_until = (local(utcnow()) + dt.timedelta(days=365)).date().isoformat()
    return render(
        request,
        "consents.html",
        visitor(request, principal),
        status,
        grants=grants,
        names=org_names(session, [g.grantee_org_id for g in grants]),
        can_grant=can_grant,
        bank_groups=groups,
        bank_q=bank_q.strip(),
        sections=[s.value for s in CARD_SECTIONS],
        other_scopes=[s.value for s in OTHER_SCOPES],
        purposes=[p.value for p in Purpose],
        default_until=default_until,
        error=error,
    )


@router.post("/console/consents")
def grant(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CONSENT_GRANT),
    grantee_org_id: Annotated[str, Form(max_length=64)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    purpose: Annotated[str, Form(max_length=64)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, principal)
    if not check_csrf(request, csrf_token):
        return _page(request, session, principal, 403, i18n.translate("csrf", seen.lang))
    data = _grant_input(grantee_org_id.strip(), scopes or [], purpose, valid_until)
    consent.grant(session, principal, data)
    return finish(RedirectResponse("/console/consents", status_code=303), request, seen)


def _grant_input(grantee: str, scopes: list[str], purpose: str, until: str) -> GrantCreate:
    """The form's fields as the API's input; an end date means the end of that day in Asia/Shanghai."""
    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise InvalidInput(
            detail="valid_until: 日期应为 YYYY-MM-DD / date must be YYYY-MM-DD",
            fields=[FieldError("valid_until", "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD")],
        ) from None
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
    try:
        return GrantCreate.model_validate(
            {"grantee_org_id": grantee, "scopes": scopes, "purpose": purpose, "valid_until": end}
        )
    except ValidationError as exc:
        fields = [FieldError(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InvalidInput(
            detail="; ".join(f"{f.field}: {f.message}" for f in fields), fields=fields
        ) from None


@router.post("/console/consents/{grant_id}/revoke")
def revoke(
    request: Request,
    grant_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CONSENT_GRANT),
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, principal)
    if not check_csrf(request, csrf_token):
        return _page(request, session, principal, 403, i18n.translate("csrf", seen.lang))
    try:
        data = GrantRevoke(reason=reason.strip())
    except ValidationError:
        raise InvalidInput(
            detail="reason: 请填写撤销原因（至少 2 个字）/ give a reason (at least 2 characters)",
            fields=[FieldError("reason", "至少 2 个字 / at least 2 characters")],
        ) from None
    consent.revoke(session, principal, grant_id, data)
    return finish(RedirectResponse("/console/consents", status_code=303), request, seen)
