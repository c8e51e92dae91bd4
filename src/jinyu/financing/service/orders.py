"""Demands and work orders: post, route, assign, act on the state machine, re-dispatch, rate, read.

Every change appends an order event (actor, time, from → to) and an audit entry in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal, Role
from jinyu.core.clock import local, utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError, InvalidInput, PermissionDenied
from jinyu.core.money import to_fen
from jinyu.core.pagination import Page
from jinyu.financing import repository as repo
from jinyu.financing.errors import (
    AlreadyRated,
    AssigneeInvalid,
    DemandInvalid,
    OrderNotFound,
    RejectionNeedsReason,
    TransitionNotAllowed,
)
from jinyu.financing.models import FinancingDemand, WorkOrder, WorkOrderEvent
from jinyu.financing.rules import (
    BANK_ACTIONS,
    Action,
    OrderState,
    demand_problems,
    next_state,
    order_overdue,
    refusal_problems,
)
from jinyu.financing.schemas import (
    Assignment,
    DemandCreate,
    DemandOut,
    EventOut,
    OrderDetail,
    OrderOut,
    PostedDemand,
    Rating,
    Redispatch,
    Transition,
)
from jinyu.financing.service import outbox
from jinyu.financing.service.routing import route
from jinyu.financing.sla import WorkCalendar, deadlines
from jinyu.governance.policy.protect import Reader, protect
from jinyu.party.service import lookup

BANK_KIND = OrgKind.BANK_HEAD_OFFICE.value
ASSIGNABLE = frozenset(
    {OrderState.DISPATCHED, OrderState.ACCEPTED, OrderState.CONTACTED, OrderState.UNDER_REVIEW}
)


def order_out(order: WorkOrder, today: dt.date) -> OrderOut:
    out = OrderOut.model_validate(order)
    out.overdue = order_overdue(
        order.contact_due, order.decision_due, order.contacted_on, order.decided_on, order.closed_on, today
    )
    return out


def _today(now: dt.datetime) -> dt.date:
    return local(now).date()


def _event(
    session: Session,
    principal: Principal,
    order: WorkOrder,
    action: Action,
    before: str | None,
    note: str = "",
    detail: dict[str, object] | None = None,
) -> None:
    session.add(
        WorkOrderEvent(
            order_id=order.id,
            seq=repo.next_seq(session, order.id),
            action=action.value,
            from_state=before,
            to_state=order.state,
            actor_id=principal.subject_id,
            actor_org_id=principal.org_id,
            note=note,
            detail=detail or {},
            at=order.updated_at,
        )
    )
    outbox.enqueue(session, order, action.value)
    audit.record(
        session,
        principal,
        action=f"financing.order.{action.value}",
        subject_type="work_order",
        subject_ids=[order.id],
        detail={"from": before, "to": order.state, **(detail or {})},
    )


def post_demand(
    session: Session,
    principal: Principal,
    data: DemandCreate,
    calendar: WorkCalendar,
    now: dt.datetime | None = None,
    idempotency: tuple[str, str] | None = None,
) -> PostedDemand:
    """An enterprise posts a demand; the platform dispatches its first work order at once. `idempotency` is
    (key, request hash) from `demands.post_once`: a clash on the key raises IntegrityError before anything else."""
    principal.require(Perm.FINANCING_DEMAND)
    if principal.org_kind != OrgKind.ENTERPRISE:
        raise PermissionDenied(detail="仅企业可发布融资需求 / only enterprises post financing demands")
    problems = demand_problems(data.amount, data.term_months)
    banks = lookup.orgs_facts(session, data.preferred_bank_ids)
    for i, bank_id in enumerate(data.preferred_bank_ids):
        if bank_id not in banks or banks[bank_id].kind != BANK_KIND:
            problems.append((f"preferred_bank_ids[{i}]", f"不是银行总行 / not a bank head office: {bank_id}"))
    if problems:
        raise DemandInvalid(fields=[FieldError(f, m) for f, m in problems])
    enterprise = lookup.org_facts(session, principal.org_id)
    assert enterprise is not None  # the principal's own organisation
    demand = FinancingDemand(
        id=new_id(),
        enterprise_id=enterprise.id,
        amount=to_fen(data.amount),
        term_months=data.term_months,
        purpose=data.purpose,
        security=data.security.value,
        security_note=data.security_note,
        preferred_bank_ids=list(data.preferred_bank_ids),
        chain_code=data.chain_code or enterprise.chain_code,
        created_by=principal.subject_id,
    )
    demand.idempotency_key, demand.request_hash = idempotency or (None, None)
    with session.begin_nested():  # a key taken meanwhile rolls back to here
        session.add(demand)
    audit.record(
        session,
        principal,
        action="financing.demand.post",
        subject_type="financing_demand",
        subject_ids=[demand.id],
    )
    order = _dispatch(session, principal, demand, calendar, now or utcnow(), exclude=set(), previous=None)
    return PostedDemand(
        demand=DemandOut.model_validate(demand), order=order_out(order, _today(now or utcnow()))
    )


def _dispatch(
    session: Session,
    principal: Principal,
    demand: FinancingDemand,
    calendar: WorkCalendar,
    now: dt.datetime,
    exclude: set[str],
    previous: str | None,
    chosen: str | None = None,
) -> WorkOrder:
    enterprise = lookup.org_facts(session, demand.enterprise_id)
    assert enterprise is not None
    routed = route(session, demand, enterprise.district_code, enterprise.industry_code, exclude, chosen)
    bank_id, rule = routed.bank_id, routed.rule
    bank = lookup.org_facts(session, bank_id)
    if bank is None or bank.kind != BANK_KIND:
        raise DemandInvalid(
            fields=[FieldError("bank_id", f"不是银行总行 / not a bank head office: {bank_id}")]
        )
    today = _today(now)
    due = deadlines(calendar, today)
    order = WorkOrder(
        id=new_id(), demand_id=demand.id, previous_order_id=previous, state=OrderState.CREATED.value,
        enterprise_id=enterprise.id, enterprise_path=enterprise.path, bank_id=bank.id, holder_path=bank.path,
        route_rule=rule, product_id=routed.product.id if routed.product else None,
        product_code=routed.product.code if routed.product else None, district_code=enterprise.district_code,
        industry_code=enterprise.industry_code,
        chain_code=demand.chain_code, amount_requested=demand.amount, dispatched_at=now, dispatched_on=today,
        dispatch_month=today.strftime("%Y-%m"), contact_due=due.contact_due, decision_due=due.decision_due,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(order)
    session.flush()
    order.state, order.updated_at = next_state(OrderState.CREATED, Action.DISPATCH).value, now
    _event(
        session,
        principal,
        order,
        Action.DISPATCH,
        OrderState.CREATED.value,
        detail={"bank_id": bank.id, "rule": rule, "product_code": order.product_code},
    )
    return order


def _readable(session: Session, principal: Principal, order_id: str, *, lock: bool = False) -> WorkOrder:
    order = repo.get_order(session, principal, order_id, for_update=lock)
    if order is None:
        raise OrderNotFound(detail=order_id)
    return order


def assign(session: Session, principal: Principal, order_id: str, data: Assignment) -> OrderOut:
    """The bank puts an outlet (in its own subtree) and optionally a customer manager of that outlet on it."""
    principal.require(Perm.FINANCING_ASSIGN)
    order = _readable(session, principal, order_id, lock=True)
    outlet = lookup.org_facts(session, data.outlet_id)
    if outlet is None or outlet.kind != OrgKind.BANK_OUTLET.value or outlet.tenant_id != order.bank_id:
        raise AssigneeInvalid(
            fields=[FieldError("outlet_id", "不是该银行的网点 / not an outlet of this bank")]
        )
    if not outlet.path.startswith(principal.org_path):
        raise AssigneeInvalid(
            fields=[FieldError("outlet_id", "网点不在本机构辖内 / outlet outside your subtree")]
        )
    if data.manager_id is not None:
        manager = lookup.user_facts(session, data.manager_id)
        if manager is None or manager.org_id != outlet.id or Role.CUSTOMER_MANAGER.value not in manager.roles:
            raise AssigneeInvalid(
                fields=[
                    FieldError("manager_id", "不是该网点的客户经理 / not a customer manager of the outlet")
                ]
            )
    if OrderState(order.state) not in ASSIGNABLE:
        raise TransitionNotAllowed(detail=f"{order.state}: 仅未决工单可分派网点 / only undecided orders")
    order.outlet_id, order.branch_id, order.manager_id = outlet.id, outlet.parent_id, data.manager_id
    order.holder_path, order.updated_at = outlet.path, utcnow()
    detail: dict[str, object] = {"outlet_id": outlet.id, "manager_id": data.manager_id}
    _event(session, principal, order, Action.ASSIGN, order.state, detail=detail)
    return order_out(order, _today(order.updated_at))


def act(
    session: Session,
    principal: Principal,
    order_id: str,
    data: Transition,
    calendar: WorkCalendar,
    now: dt.datetime | None = None,
) -> OrderOut:
    """A bank's step: accept, contact, review, approve (with the amount), reject (with a coded reason),
    disburse, close."""
    now = now or utcnow()
    principal.require(Perm.FINANCING_HANDLE)
    if data.action not in BANK_ACTIONS:
        raise InvalidInput(fields=[FieldError("action", "请使用专用接口 / use its own endpoint")])
    order = _readable(session, principal, order_id, lock=True)
    if not order.holder_path.startswith(principal.org_path):
        raise PermissionDenied(detail="仅承办银行可处理 / only the handling bank acts on the order")
    before = OrderState(order.state)
    target = next_state(before, data.action)
    _check_payload(data)
    today = _today(now)
    order.state, order.updated_at = target.value, now
    _stamp(order, data, calendar, today)
    detail: dict[str, object] = {}
    if data.reason_code is not None and target is OrderState.REJECTED:
        detail["reason_code"] = data.reason_code.value
    if target is OrderState.APPROVED:
        detail["amount_approved"] = str(order.amount_approved)
    _event(session, principal, order, data.action, before.value, data.note, detail)
    return order_out(order, today)


def _check_payload(data: Transition) -> None:
    if data.action is Action.REJECT:
        problems = refusal_problems(data.reason_code, data.note)
        if problems:
            raise RejectionNeedsReason(fields=[FieldError(f, m) for f, m in problems])
    if data.action is Action.APPROVE and data.amount_approved is None:
        raise DemandInvalid(
            fields=[FieldError("amount_approved", "批准须给出金额 / approval needs an amount")]
        )


def _stamp(order: WorkOrder, data: Transition, calendar: WorkCalendar, today: dt.date) -> None:
    """Record the SLA facts of a step: dates and working days since dispatch."""
    elapsed = calendar.working_days_between(order.dispatched_on, today)
    state = OrderState(order.state)
    if state is OrderState.ACCEPTED:
        order.accepted_on = today
    elif state is OrderState.CONTACTED:
        order.contacted_on, order.contact_working_days = today, elapsed
    elif state in {OrderState.APPROVED, OrderState.REJECTED}:
        order.decided_on, order.decision_working_days = today, elapsed
        if state is OrderState.APPROVED:
            assert data.amount_approved is not None
            order.amount_approved = to_fen(data.amount_approved)
        else:
            order.refusal_code = data.reason_code.value if data.reason_code else None
            order.refusal_note = data.note or None
    elif state is OrderState.CLOSED:
        order.closed_on = today


def redispatch(
    session: Session,
    principal: Principal,
    order_id: str,
    data: Redispatch,
    calendar: WorkCalendar,
    now: dt.datetime | None = None,
) -> OrderOut:
    """Close a rejected or overdue order at its bank and dispatch the demand to another bank (never one
    already tried). The enterprise or the platform may do it."""
    if not principal.has(Perm.FINANCING_DEMAND):
        principal.require(Perm.FINANCING_MANAGE)
    now = now or utcnow()
    today = _today(now)
    order = _readable(session, principal, order_id, lock=True)
    before = OrderState(order.state)
    overdue = order_overdue(
        order.contact_due, order.decision_due, order.contacted_on, order.decided_on, order.closed_on, today
    )
    order.state = next_state(before, Action.REDISPATCH, overdue=overdue).value
    order.closed_on, order.updated_at = today, now
    demand = repo.get_demand(session, order.demand_id)
    assert demand is not None
    tried = repo.banks_of_demand(session, demand.id)
    if data.bank_id is not None and data.bank_id in tried:
        raise DemandInvalid(fields=[FieldError("bank_id", "该银行已处理过此需求 / bank already tried")])
    new = _dispatch(session, principal, demand, calendar, now, tried, order.id, chosen=data.bank_id)
    if data.bank_id is None:  # the routing order picked it: say so, keeping any skipped banks
        _, sep, skipped = new.route_rule.partition(";")
        new.route_rule = "redispatch" + sep + skipped
    _event(session, principal, order, Action.REDISPATCH, before.value, data.note, {"new_order_id": new.id})
    return order_out(new, today)


def rate(session: Session, principal: Principal, order_id: str, data: Rating) -> OrderOut:
    """The enterprise rates the service once the bank has decided."""
    principal.require(Perm.FINANCING_DEMAND)
    order = _readable(session, principal, order_id, lock=True)
    if order.enterprise_id != principal.org_id:
        raise PermissionDenied(detail="仅发布需求的企业可评价 / only the enterprise rates")
    if order.decided_on is None:
        raise TransitionNotAllowed(detail=f"{order.state}: 银行决策后方可评价 / rate after the decision")
    if order.rating is not None:
        raise AlreadyRated(detail=order.id)
    order.rating, order.rating_comment, order.updated_at = data.stars, data.comment or None, utcnow()
    _event(session, principal, order, Action.RATE, order.state, data.comment, {"stars": data.stars})
    return order_out(order, _today(order.updated_at))


def get_order(
    session: Session, principal: Principal, order_id: str, today: dt.date | None = None
) -> OrderDetail:
    principal.require(Perm.FINANCING_READ)
    order = _readable(session, principal, order_id)
    audit.record(
        session, principal, action="financing.order.read", subject_type="work_order", subject_ids=[order.id]
    )
    out = order_out(order, today or _today(utcnow()))
    events = [EventOut.model_validate(e) for e in repo.events_of(session, order.id)]
    return protect(OrderDetail(**out.model_dump(), events=events), Reader(principal))


def list_orders(
    session: Session, principal: Principal, filters: Mapping[str, str], limit: int, offset: int
) -> Page[OrderOut]:
    principal.require(Perm.FINANCING_READ)
    rows, total = repo.list_orders(session, principal, filters, limit, offset)
    audit.record(
        session,
        principal,
        action="financing.order.list",
        subject_type="work_order",
        subject_ids=[r.id for r in rows],
    )
    today = _today(utcnow())
    page = Page[OrderOut](items=[order_out(r, today) for r in rows], total=total, limit=limit, offset=offset)
    return protect(page, Reader(principal))
