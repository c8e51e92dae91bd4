"""Tables the financing domain owns: demands, work orders and their event history, chain chief banks,
consultant assignments, window-guidance notices and the webhook outbox.

Order events are append-only. Each order carries copies of the grouping keys (bank, branch, outlet, manager,
district, industry, chain) and its SLA due dates, fixed at dispatch, so indicators group without joins and a
later change of the calendar or of the org tree does not rewrite history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, Money, UTCDateTime, new_id


class FinancingDemand(Base):
    __tablename__ = "financing_demands"
    # One demand per (enterprise, Idempotency-Key): a retried or concurrent post with the key finds this row.
    __table_args__ = (UniqueConstraint("enterprise_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money(18, 2))
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(500))
    security: Mapped[str] = mapped_column(String(16))  # credit | collateral | guarantee | pledge
    security_note: Mapped[str] = mapped_column(String(500), default="")
    preferred_bank_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    chain_code: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(IdColumn)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the canonical request body


class WorkOrder(Base):
    __tablename__ = "financing_orders"
    __table_args__ = (Index("ix_financing_orders_bank_state", "bank_id", "state"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    demand_id: Mapped[str] = mapped_column(ForeignKey("financing_demands.id"), index=True)
    previous_order_id: Mapped[str | None] = mapped_column(IdColumn)
    state: Mapped[str] = mapped_column(String(16), index=True)
    enterprise_id: Mapped[str] = mapped_column(IdColumn, index=True)
    enterprise_path: Mapped[str] = mapped_column(String(400), index=True)
    bank_id: Mapped[str] = mapped_column(IdColumn)
    branch_id: Mapped[str | None] = mapped_column(IdColumn)
    outlet_id: Mapped[str | None] = mapped_column(IdColumn, index=True)
    manager_id: Mapped[str | None] = mapped_column(IdColumn, index=True)
    # Path of the bank organisation now responsible (head office until an outlet is assigned): the bank side
    # reads an order when this path lies in its own subtree.
    holder_path: Mapped[str] = mapped_column(String(400), index=True)
    # chosen | preferred | chain_chief | district_load | redispatch, then any "; skipped <rule>:<bank> no_product_fit"
    route_rule: Mapped[str] = mapped_column(String(400))
    product_id: Mapped[str | None] = mapped_column(
        IdColumn
    )  # the bank product that fitted (None: no products yet)
    product_code: Mapped[str | None] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(6))
    industry_code: Mapped[str | None] = mapped_column(String(8))
    chain_code: Mapped[str | None] = mapped_column(String(32))
    amount_requested: Mapped[Decimal] = mapped_column(Money(18, 2))
    amount_approved: Mapped[Decimal | None] = mapped_column(Money(18, 2))
    dispatched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    dispatched_on: Mapped[dt.date] = mapped_column(Date)  # Asia/Shanghai date: SLA day 0
    dispatch_month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM of dispatched_on
    contact_due: Mapped[dt.date] = mapped_column(Date)
    decision_due: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    contacted_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    contact_working_days: Mapped[int | None] = mapped_column(Integer)
    decision_working_days: Mapped[int | None] = mapped_column(Integer)
    refusal_code: Mapped[str | None] = mapped_column(String(4))
    refusal_note: Mapped[str | None] = mapped_column(String(500))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # no onupdate: every change sets it from the service's clock (`now`), which a wall-clock onupdate overrode
    # whenever the new value equalled the old (a dispatch in the same instant as its creation)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkOrderEvent(Base):
    """Every action on an order, with its actor and time (append-only)."""

    __tablename__ = "financing_order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("financing_orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_org_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChainChief(Base):
    """The financial chain chief bank (链长制主办行) of an industrial chain: routing sends it the chain's demands."""

    __tablename__ = "financing_chain_chiefs"

    chain_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    appointed_by: Mapped[str] = mapped_column(IdColumn)
    appointed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsultantAssignment(Base):
    """A financial consultant (金融顾问) serving an enterprise: they read that enterprise's orders."""

    __tablename__ = "financing_consultant_assignments"
    __table_args__ = (UniqueConstraint("consultant_id", "enterprise_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    consultant_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(IdColumn)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuidanceNotice(Base):
    """Window guidance (窗口指导) to a lagging bank: the indicator that chose it, its value when sent, the
    bank's acknowledgement and the regulator's follow-up."""

    __tablename__ = "financing_guidance_notices"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    bank_path: Mapped[str] = mapped_column(String(400))
    indicator: Mapped[str] = mapped_column(String(32))
    # The indicator's value for the bank when the notice was sent, as exact decimal text.
    baseline: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(2000))
    sent_by: Mapped[str] = mapped_column(IdColumn)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(IdColumn)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ack_note: Mapped[str | None] = mapped_column(String(2000))
    follow_up_note: Mapped[str | None] = mapped_column(String(2000))
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(Base):
    """Where a bank's system receives work-order events, and the Standard Webhooks secret they are signed with
    (kept here because signing needs it; shown once when set)."""

    __tablename__ = "financing_webhook_endpoints"

    bank_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A work-order event for a bank's system, written in the same transaction as the event; delivered at least
    once by `jinyu financing deliver-webhooks`, retried with back-off until a 2xx answer. Never deleted."""

    __tablename__ = "financing_outbox"
    __table_args__ = (Index("ix_financing_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id header: msg_<id>
    bank_id: Mapped[str] = mapped_column(IdColumn, index=True)
    order_id: Mapped[str] = mapped_column(IdColumn)
    event_type: Mapped[str] = mapped_column(String(48))
    payload: Mapped[str] = mapped_column(String(4000))  # the exact JSON body that is signed and sent
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class Expert(Base):
    """An industry expert (行业专家库) who can be assigned to orders needing sector judgement."""

    __tablename__ = "financing_experts"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str] = mapped_column(String(200))
    # GB/T 4754-2017 codes or prefixes the expert covers: "C" (manufacturing), "C36" (automobiles), "C3670".
    fields: Mapped[list[str]] = mapped_column(JSON)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExpertAssignment(Base):
    __tablename__ = "financing_expert_assignments"
    __table_args__ = (UniqueConstraint("expert_id", "order_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    expert_id: Mapped[str] = mapped_column(ForeignKey("financing_experts.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("financing_orders.id"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    assigned_by: Mapped[str] = mapped_column(IdColumn)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FinancingProduct(Base):
    """A financing product a bank maintains: routing sends a demand only to banks with a fitting, active one."""

    __tablename__ = "financing_products"
    __table_args__ = (UniqueConstraint("bank_id", "code"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    min_amount: Mapped[Decimal] = mapped_column(Money(18, 2))
    max_amount: Mapped[Decimal] = mapped_column(Money(18, 2))
    min_term_months: Mapped[int] = mapped_column(Integer)
    max_term_months: Mapped[int] = mapped_column(Integer)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    security_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(IdColumn)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
