"""The industry expert database: experts, the industry fields they cover, their availability, and their
assignment to orders (by the platform, or by the bank handling the order)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from jinyu.financing import repository as repo
from jinyu.financing.errors import OrderNotFound
from jinyu.financing.models import Expert, ExpertAssignment
from jinyu.financing.schemas import Availability, ExpertAssignmentOut, ExpertCreate, ExpertOut, ExpertRequest

FIELD_RE = re.compile(r"^[A-T](\d{2,4})?$")  # a GB/T 4754-2017 section letter, optionally with digits


def covers(fields: list[str], industry_code: str | None) -> bool:
    """An expert covers an industry when one of their fields is a prefix of its code."""
    return industry_code is not None and any(industry_code.startswith(f) for f in fields)


def create(session: Session, principal: Principal, data: ExpertCreate) -> ExpertOut:
    principal.require(Perm.FINANCING_MANAGE)
    bad = [
        FieldError(f"fields[{i}]", "须为 GB/T 4754 代码 / not an industry code")
        for i, f in enumerate(data.fields)
        if not FIELD_RE.match(f)
    ]
    if bad:
        raise InvalidInput(fields=bad)
    expert = Expert(
        name=data.name,
        affiliation=data.affiliation,
        fields=sorted(set(data.fields)),
        available=data.available,
    )
    session.add(expert)
    session.flush()
    audit.record(
        session, principal, action="financing.expert.create", subject_type="expert", subject_ids=[expert.id]
    )
    return ExpertOut.model_validate(expert)


def _expert(session: Session, expert_id: str) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(detail=f"expert {expert_id}")
    return expert


def set_availability(session: Session, principal: Principal, expert_id: str, data: Availability) -> ExpertOut:
    principal.require(Perm.FINANCING_MANAGE)
    expert = _expert(session, expert_id)
    expert.available = data.available
    audit.record(
        session, principal, action="financing.expert.availability", subject_type="expert", subject_ids=[expert.id],
        detail={"available": data.available},
    )  # fmt: skip
    return ExpertOut.model_validate(expert)


def search(
    session: Session, principal: Principal, industry: str | None, available: bool | None
) -> list[ExpertOut]:
    principal.require(Perm.FINANCING_READ)
    stmt = select(Expert).order_by(Expert.name, Expert.id)
    if available is not None:
        stmt = stmt.where(Expert.available.is_(available))
    experts = [e for e in session.scalars(stmt) if industry is None or covers(e.fields, industry)]
    return [ExpertOut.model_validate(e) for e in experts]


def assign(session: Session, principal: Principal, order_id: str, data: ExpertRequest) -> ExpertAssignmentOut:
    """Put an available expert covering the order's industry on it (the platform, or the handling bank)."""
    if not principal.has(Perm.FINANCING_MANAGE):
        principal.require(Perm.FINANCING_ASSIGN)
    order = repo.get_order(session, principal, order_id)
    if order is None:
        raise OrderNotFound(detail=order_id)
    if not principal.has(Perm.FINANCING_MANAGE) and not order.holder_path.startswith(principal.org_path):
        raise PermissionDenied(detail="仅承办银行可申请专家 / only the handling bank")
    expert = _expert(session, data.expert_id)
    problems = []
    if not expert.available:
        problems.append(FieldError("expert_id", "专家当前不可用 / expert not available"))
    if not covers(expert.fields, order.industry_code):
        problems.append(
            FieldError("expert_id", f"专家不覆盖行业 / expert does not cover {order.industry_code}")
        )
    if problems:
        raise InvalidInput(fields=problems)
    found = session.scalars(
        select(ExpertAssignment).where(
            ExpertAssignment.expert_id == expert.id, ExpertAssignment.order_id == order.id
        )
    ).first()
    if found is None:
        found = ExpertAssignment(
            expert_id=expert.id, order_id=order.id, note=data.note, assigned_by=principal.subject_id
        )
        session.add(found)
        session.flush()
        audit.record(
            session, principal, action="financing.expert.assign", subject_type="work_order", subject_ids=[order.id],
            detail={"expert_id": expert.id},
        )  # fmt: skip
    return ExpertAssignmentOut.model_validate(found)


def of_order(session: Session, principal: Principal, order_id: str) -> list[ExpertAssignmentOut]:
    principal.require(Perm.FINANCING_READ)
    if repo.get_order(session, principal, order_id) is None:
        raise OrderNotFound(detail=order_id)
    stmt = (
        select(ExpertAssignment)
        .where(ExpertAssignment.order_id == order_id)
        .order_by(ExpertAssignment.assigned_at)
    )
    return [ExpertAssignmentOut.model_validate(a) for a in session.scalars(stmt)]
