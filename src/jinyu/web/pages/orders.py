"""One financing work order: its status, matched product, amounts, the timeline of its events, and the steps the
caller's role may take on it. Every step posts a form (with its CSRF token) to the financing service function
the API calls (`act`, `assign`, `redispatch`, `rate`), so the same permission, tenancy and state rules apply;
a refused step renders the service's own problem as the console's error page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.web import SessionDep
from jinyu.financing import service as financing
from jinyu.financing.calendars import load_calendar
from jinyu.financing.rules import BANK_ACTIONS, REFUSAL_TEXT, TRANSITIONS, Action, OrderState
from jinyu.financing.schemas import Assignment, OrderDetail, Rating, Redispatch, Transition
from jinyu.web import i18n
from jinyu.web.pages.bankpick import bank_groups, head_offices
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import render
from jinyu.web.session import check_csrf, finish, visitor

router = APIRouter()
# The bank's steps in the order the work goes (a set in `rules`; shown as buttons in this order).
STEPS = tuple(
    a
    for a in (
        Action.ACCEPT,
        Action.CONTACT,
        Action.REVIEW,
        Action.APPROVE,
        Action.REJECT,
        Action.DISBURSE,
        Action.CLOSE,
    )
    if a in BANK_ACTIONS
)
UNDECIDED = frozenset(
    {OrderState.DISPATCHED, OrderState.ACCEPTED, OrderState.CONTACTED, OrderState.UNDER_REVIEW}
)
Csrf = Annotated[str, Form(max_length=200)]


def offered(principal: Principal, order: OrderDetail) -> dict[str, Any]:
    """What the page offers: the steps the state allows, for the roles whose permission the service asks.
    The service still decides (e.g. only the handling bank's subtree acts); this only hides what cannot work."""
    state = OrderState(order.state)
    steps = (
        [a.value for a in STEPS if state in TRANSITIONS[a][0]] if principal.has(Perm.FINANCING_HANDLE) else []
    )
    redispatchable = state is OrderState.REJECTED or (state in UNDECIDED and order.overdue)
    return {
        "steps": steps,
        "can_assign": principal.has(Perm.FINANCING_ASSIGN) and state in UNDECIDED,
        "can_redispatch": redispatchable
        and (principal.has(Perm.FINANCING_DEMAND) or principal.has(Perm.FINANCING_MANAGE)),
        "can_rate": principal.has(Perm.FINANCING_DEMAND)
        and order.enterprise_id == principal.org_id
        and order.decided_on is not None
        and order.rating is None,
    }


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    order_id: str,
    status: int = 200,
    error: str = "",
) -> Response:
    order = financing.get_order(session, principal, order_id)
    ids = [order.enterprise_id, order.bank_id, *(i for i in (order.branch_id, order.outlet_id) if i)]
    ids += [e.actor_org_id for e in order.events]
    offers = offered(principal, order)
    # an enterprise names the next bank from the directory (its own banks first); others type an id
    heads = (
        head_offices(bank_groups(session, principal, request.app.state.settings))
        if offers["can_redispatch"] and principal.has(Perm.CONSENT_GRANT)
        else []
    )
    return render(
        request,
        "order.html",
        visitor(request, principal),
        status,
        order=order,
        names=org_names(session, ids),
        reasons={r.value: text for r, text in REFUSAL_TEXT.items()},
        error=error,
        redispatch_banks=[h for h in heads if h.id != order.bank_id],
        **offers,
    )


@router.get("/console/orders/{order_id}")
def order_page(
    request: Request,
    order_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_READ),
) -> Response:
    return _page(request, session, principal, order_id)


def _done(request: Request, session: Session, principal: Principal, order_id: str) -> Response:
    return finish(
        RedirectResponse(f"/console/orders/{order_id}", status_code=303), request, visitor(request, principal)
    )


def _refused(request: Request, session: Session, principal: Principal, order_id: str) -> Response:
    return _page(
        request, session, principal, order_id, 403, i18n.translate("csrf", visitor(request, principal).lang)
    )


def _validated(model: Any, data: dict[str, Any]) -> Any:
    """The form's fields as the API's input model, its errors as the API's field errors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [FieldError(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InvalidInput(
            detail="; ".join(f"{f.field}: {f.message}" for f in fields), fields=fields
        ) from None


def _amount(text: str) -> Decimal | None:
    text = text.replace(",", "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        message = "金额应为数字，如 1200000.00 / amount must be a number such as 1200000.00"
        raise InvalidInput(
            detail=f"amount_approved: {message}", fields=[FieldError("amount_approved", message)]
        ) from None


@router.post("/console/orders/{order_id}/transitions")
def transition(
    request: Request,
    order_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_HANDLE),
    action: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    reason_code: Annotated[str, Form(max_length=8)] = "",
    amount_approved: Annotated[str, Form(max_length=30)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if not check_csrf(request, csrf_token):
        return _refused(request, session, principal, order_id)
    data = _validated(
        Transition,
        {
            "action": action,
            "note": note.strip(),
            "reason_code": reason_code or None,
            "amount_approved": _amount(amount_approved),
        },
    )
    financing.act(session, principal, order_id, data, load_calendar(request.app.state.settings.data_dir))
    return _done(request, session, principal, order_id)


@router.post("/console/orders/{order_id}/assignment")
def assignment(
    request: Request,
    order_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_ASSIGN),
    outlet_id: Annotated[str, Form(max_length=64)] = "",
    manager_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if not check_csrf(request, csrf_token):
        return _refused(request, session, principal, order_id)
    data = _validated(Assignment, {"outlet_id": outlet_id.strip(), "manager_id": manager_id.strip() or None})
    financing.assign(session, principal, order_id, data)
    return _done(request, session, principal, order_id)


@router.post("/console/orders/{order_id}/redispatch")
def redispatch(
    request: Request,
    order_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_READ),  # the service asks for demand or manage
    bank_id: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if not check_csrf(request, csrf_token):
        return _refused(request, session, principal, order_id)
    data = _validated(Redispatch, {"bank_id": bank_id.strip() or None, "note": note.strip()})
    new = financing.redispatch(
        session, principal, order_id, data, load_calendar(request.app.state.settings.data_dir)
    )
    return _done(request, session, principal, new.id)  # the new order, at the next bank


@router.post("/console/orders/{order_id}/rating")
def rating(
    request: Request,
    order_id: str,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_DEMAND),
    stars: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if not check_csrf(request, csrf_token):
        return _refused(request, session, principal, order_id)
    data = _validated(Rating, {"stars": stars, "comment": comment.strip()})
    financing.rate(session, principal, order_id, data)
    return _done(request, session, principal, order_id)
