"""Every query on financing tables. `readable_orders(principal)` scopes orders to the caller:

- the regulator and the platform (financing.supervise or org.read_all): every order;
- a bank's people (financing.handle / financing.assign): orders held in their own subtree — a head office all
  of its bank's, a branch its outlets', an outlet (its customer managers) its own;
- an enterprise (financing.demand): its own orders;
- a financial consultant: the orders of the enterprises assigned to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from jinyu.core.auth import Perm, Principal, Role
from jinyu.core.db import fen_sum
from jinyu.financing.models import (
    ChainChief,
    ConsultantAssignment,
    FinancingDemand,
    GuidanceNotice,
    WorkOrder,
    WorkOrderEvent,
)
from jinyu.financing.rules import OPEN_STATES

GROUP_COLUMNS: dict[str, Any] = {
    "bank": WorkOrder.bank_id,
    "branch": WorkOrder.branch_id,
    "outlet": WorkOrder.outlet_id,
    "manager": WorkOrder.manager_id,
    "district": WorkOrder.district_code,
    "industry": WorkOrder.industry_code,
    "chain": WorkOrder.chain_code,
    "month": WorkOrder.dispatch_month,
}
# Drill-down filters: the same keys, as `<key>=<value>` (e.g. bank=<id> then group by outlet).
FILTER_COLUMNS = GROUP_COLUMNS


def sees_all_orders(principal: Principal) -> bool:
    return principal.sees_everything or principal.has(Perm.FINANCING_SUPERVISE)


def readable_orders(principal: Principal) -> Select[WorkOrder]:
    stmt = select(WorkOrder)
    if sees_all_orders(principal):
        return stmt
    scopes: list[ColumnElement[bool]] = []
    if principal.has(Perm.FINANCING_HANDLE) or principal.has(Perm.FINANCING_ASSIGN):
        scopes.append(WorkOrder.holder_path.startswith(principal.org_path, autoescape=True))
    if principal.has(Perm.FINANCING_DEMAND):
        scopes.append(WorkOrder.enterprise_path.startswith(principal.org_path, autoescape=True))
    if Role.FINANCIAL_CONSULTANT in principal.roles:
        mine = select(ConsultantAssignment.enterprise_id).where(
            ConsultantAssignment.consultant_id == principal.subject_id
        )
        scopes.append(WorkOrder.enterprise_id.in_(mine))
    return stmt.where(or_(*scopes) if scopes else false())


def get_order(
    session: Session, principal: Principal, order_id: str, *, for_update: bool = False
) -> WorkOrder | None:
    stmt = readable_orders(principal).where(WorkOrder.id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def list_orders(
    session: Session, principal: Principal, filters: Mapping[str, str], limit: int, offset: int
) -> tuple[list[WorkOrder], int]:
    stmt = readable_orders(principal)
    for key, value in filters.items():
        stmt = stmt.where(WorkOrder.state == value if key == "state" else FILTER_COLUMNS[key] == value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(WorkOrder.dispatched_at.desc(), WorkOrder.id).limit(limit).offset(offset)
    )
    return list(rows), total


def events_of(session: Session, order_id: str) -> list[WorkOrderEvent]:
    stmt = select(WorkOrderEvent).where(WorkOrderEvent.order_id == order_id).order_by(WorkOrderEvent.seq)
    return list(session.scalars(stmt))


def next_seq(session: Session, order_id: str) -> int:
    last = session.scalar(select(func.max(WorkOrderEvent.seq)).where(WorkOrderEvent.order_id == order_id))
    return int(last or 0) + 1


def get_demand(session: Session, demand_id: str) -> FinancingDemand | None:
    return session.get(FinancingDemand, demand_id)


def banks_of_demand(session: Session, demand_id: str) -> set[str]:
    return set(session.scalars(select(WorkOrder.bank_id).where(WorkOrder.demand_id == demand_id)))


def open_load(session: Session, bank_ids: list[str]) -> dict[str, int]:
    """Open orders per bank: routing sends a demand to the least loaded bank."""
    stmt = (
        select(WorkOrder.bank_id, func.count())
        .where(WorkOrder.bank_id.in_(bank_ids), WorkOrder.state.in_([s.value for s in OPEN_STATES]))
        .group_by(WorkOrder.bank_id)
    )
    return {bank: int(n) for bank, n in session.execute(stmt)}


def chain_chief(session: Session, chain_code: str) -> ChainChief | None:
    return session.get(ChainChief, chain_code)


def list_chain_chiefs(session: Session) -> list[ChainChief]:
    return list(session.scalars(select(ChainChief).order_by(ChainChief.chain_code)))


def find_assignment(session: Session, consultant_id: str, enterprise_id: str) -> ConsultantAssignment | None:
    stmt = select(ConsultantAssignment).where(
        ConsultantAssignment.consultant_id == consultant_id,
        ConsultantAssignment.enterprise_id == enterprise_id,
    )
    return session.scalars(stmt).first()


def overdue_expression(o: Any, today: dt.date) -> ColumnElement[bool]:
    """SQL twin of rules.order_overdue over the order columns `o` (the table or a subquery's `.c`); a test
    checks the two agree on every case."""
    contact_late = case(
        (o.contacted_on.is_not(None), o.contacted_on > o.contact_due),
        else_=func.coalesce(o.decided_on, o.closed_on, today) > o.contact_due,
    )
    decision_late = case(
        (o.decided_on.is_not(None), o.decided_on > o.decision_due),
        else_=func.coalesce(o.closed_on, today) > o.decision_due,
    )
    return or_(contact_late, decision_late)


def indicator_sums(
    session: Session,
    principal: Principal,
    group_by: str,
    filters: Mapping[str, str],
    today: dt.date,
) -> list[dict[str, Any]]:
    """Counts and sums per group over the caller's readable orders; rates are derived by the service."""
    scoped = readable_orders(principal).where(
        and_(true(), *(FILTER_COLUMNS[k] == v for k, v in filters.items()))
    )
    o = scoped.subquery().c
    key = getattr(o, GROUP_COLUMNS[group_by].key)
    stmt = select(
        key.label("key"),
        func.count().label("orders"),
        func.count(o.contacted_on).label("contacted"),
        func.sum(o.contact_working_days).label("contact_days"),
        func.count(o.accepted_on).label("accepted"),
        func.count(o.decided_on).label("decided"),
        func.count(o.amount_approved).label("approved"),
        fen_sum(o.amount_requested).label("requested_fen"),
        fen_sum(o.amount_approved).label("approved_fen"),
        func.sum(o.decision_working_days).label("decision_days"),
        func.count(o.decision_working_days).label("decision_count"),
        func.sum(case((overdue_expression(o, today), 1), else_=0)).label("overdue"),
    ).group_by(key)
    return [dict(row._mapping) for row in session.execute(stmt)]


def readable_notices(principal: Principal) -> Select[GuidanceNotice]:
    stmt = select(GuidanceNotice)
    if sees_all_orders(principal):
        return stmt
    if principal.has(Perm.FINANCING_GUIDANCE_ACK):
        return stmt.where(GuidanceNotice.bank_path.startswith(principal.org_path, autoescape=True))
    return stmt.where(false())


def get_notice(session: Session, principal: Principal, notice_id: str) -> GuidanceNotice | None:
    return session.scalars(readable_notices(principal).where(GuidanceNotice.id == notice_id)).first()


def list_notices(
    session: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[GuidanceNotice], int]:
    stmt = readable_notices(principal)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(GuidanceNotice.sent_at.desc()).limit(limit).offset(offset))
    return list(rows), total
