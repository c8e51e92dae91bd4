"""The regulator's review of enterprises' real-name registrations (实名注册审核): the registrations waiting (or in
another state), and for each pending one the decision — verify or reject with a reason. The API's services with
the same principal (`party.list_registrations`, `party.decide_registration`): the same permission
(`enterprise.review`), transitions and audit (`party.registration.transition`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.web import SessionDep
from jinyu.party import service as party
from jinyu.party.rules import RegistrationState
from jinyu.party.schemas import RegistrationDecision
from jinyu.web import i18n
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import render
from jinyu.web.session import check_csrf, finish, visitor

router = APIRouter()
STATES = tuple(s.value for s in RegistrationState)
DECISIONS = (RegistrationState.VERIFIED.value, RegistrationState.REJECTED.value)


@router.get("/console/registrations")
def registrations_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.ENTERPRISE_REVIEW),
    state: Annotated[str, Query(max_length=20)] = "pending",
) -> Response:
    return _page(request, session, principal, state)


def _page(
    request: Request, session: Session, principal: Principal, state: str, status: int = 200, error: str = ""
) -> Response:
    if state and state not in STATES:
        message = f"状态应为 {'、'.join(STATES)} 之一 / state must be one of {', '.join(STATES)}"
        raise InvalidInput(detail=f"state: {message}", fields=[FieldError("state", message)])
    found = party.list_registrations(session, principal, state or None, 200, 0)
    return render(
        request,
        "registrations.html",
        visitor(request, principal),
        status,
        rows=found.items,
        total=found.total,
        names=org_names(session, [r.org_id for r in found.items]),
        state=state,
        states=STATES,
        decisions=DECISIONS,
        error=error or None,
    )


@router.post("/console/registrations/{registration_id}/decision")
def decide(
    request: Request,
    session: SessionDep,
    registration_id: str,
    principal: Principal = page_requires(Perm.ENTERPRISE_REVIEW),
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, principal)
    if not check_csrf(request, csrf_token):
        return _page(request, session, principal, "pending", 403, i18n.translate("csrf", seen.lang))
    try:
        if decision not in DECISIONS:
            raise ValueError(decision)
        chosen = RegistrationDecision(state=RegistrationState(decision), reason=reason.strip())
    except (ValidationError, ValueError):
        message = (
            "请选择核验或驳回，并填写理由（2–500 字） / "
            "choose verify or reject and give a reason (2–500 characters)"
        )
        raise InvalidInput(detail=message, fields=[FieldError("reason", message)]) from None
    party.decide_registration(session, principal, registration_id, chosen)
    return finish(RedirectResponse("/console/registrations", status_code=303), request, seen)
