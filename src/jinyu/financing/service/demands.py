"""Posting a demand at most once per Idempotency-Key: the same key from the same enterprise with the same body
returns the first demand and its first order; with a different body it is refused. Keys are scoped per
enterprise organisation, and the database's unique (enterprise_id, idempotency_key) decides between
concurrent posts: the loser's insert fails, rolls back to its savepoint and replays the winner's demand."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.financing.errors import IdempotencyConflict
from jinyu.financing.models import FinancingDemand, WorkOrder
from jinyu.financing.schemas import DemandCreate, DemandOut, PostedDemand
from jinyu.financing.service.orders import order_out, post_demand
from jinyu.financing.sla import WorkCalendar

KEY_FIELD = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII without spaces, as the header allows


def request_hash(data: DemandCreate) -> str:
    """sha256 of the body in canonical form: sorted keys, compact, the amount without trailing zeros (so
    3000000 and 3000000.00 are the same request)."""
    body = data.model_dump(mode="json")
    body["amount"] = format(data.amount.normalize(), "f")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def post_once(
    session: Session,
    principal: Principal,
    data: DemandCreate,
    calendar: WorkCalendar,
    key: str | None,
    now: dt.datetime | None = None,
) -> tuple[PostedDemand, bool]:
    """(the demand with its first order, replayed?). Without a key every post is a new demand."""
    if key is None:
        return post_demand(session, principal, data, calendar, now), False
    principal.require(Perm.FINANCING_DEMAND)
    if not KEY_SHAPE.fullmatch(key):
        raise InvalidInput(
            fields=[
                FieldError(KEY_FIELD, "1–64 个可打印 ASCII 字符，无空格 / 1-64 printable ASCII, no spaces")
            ]
        )
    digest = request_hash(data)
    found = _replay(session, principal, key, digest)
    if found is not None:
        return found, True
    try:
        return post_demand(session, principal, data, calendar, now, idempotency=(key, digest)), False
    except IntegrityError:
        found = _replay(session, principal, key, digest)  # a concurrent post with the key committed first
        if found is None:
            raise
        return found, True


def _replay(session: Session, principal: Principal, key: str, digest: str) -> PostedDemand | None:
    demand = session.scalars(
        select(FinancingDemand).where(
            FinancingDemand.enterprise_id == principal.org_id, FinancingDemand.idempotency_key == key
        )
    ).one_or_none()
    if demand is None:
        return None
    if demand.request_hash != digest:
        raise IdempotencyConflict(
            detail=f"{KEY_FIELD} {key}: demand {demand.id}",
            fields=[
                FieldError(KEY_FIELD, "该键已用于内容不同的需求 / key already used for a different demand")
            ],
        )
    first = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.demand_id == demand.id, WorkOrder.previous_order_id.is_(None))
        .order_by(WorkOrder.dispatched_at)
        .limit(1)
    ).one()
    audit.record(
        session, principal, action="financing.demand.replay", subject_type="financing_demand",
        subject_ids=[demand.id], detail={"idempotency_key": key},
    )  # fmt: skip
    return PostedDemand(
        demand=DemandOut.model_validate(demand), order=order_out(first, local(utcnow()).date())
    )
