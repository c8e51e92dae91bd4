"""Input and output models of the financing domain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jinyu.financing.rules import Action, OrderState, RefusalReason, Security


class DemandCreate(BaseModel):
    amount: Decimal = Field(
        description="申请金额（元，两位小数）/ yuan, at most 2 decimals", decimal_places=2
    )
    term_months: int = Field(description="期限（月）/ term in months")
    purpose: str = Field(min_length=2, max_length=500, description="用途 / purpose")
    security: Security = Field(description="担保方式 / credit, collateral, pledge or guarantee")
    security_note: str = Field(default="", max_length=500, description="抵押物或担保人 / what secures it")
    preferred_bank_ids: list[str] = Field(
        default_factory=list, max_length=5, description="意向银行（总行 id）"
    )
    chain_code: str | None = Field(default=None, max_length=32, description="所属产业链 / industrial chain")


class DemandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    enterprise_id: str
    amount: Decimal
    term_months: int
    purpose: str
    security: str
    security_note: str
    preferred_bank_ids: list[str]
    chain_code: str | None
    created_at: dt.datetime


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_org_id: str
    note: str
    detail: dict[str, Any]
    at: dt.datetime


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    demand_id: str
    previous_order_id: str | None
    state: OrderState
    enterprise_id: str
    bank_id: str
    branch_id: str | None
    outlet_id: str | None
    manager_id: str | None
    route_rule: str
    product_id: str | None = Field(default=None, description="匹配的银行产品 / the bank product that fitted")
    product_code: str | None = None
    district_code: str | None
    industry_code: str | None
    chain_code: str | None
    amount_requested: Decimal
    amount_approved: Decimal | None
    dispatched_at: dt.datetime
    dispatched_on: dt.date
    contact_due: dt.date
    decision_due: dt.date
    contacted_on: dt.date | None
    decided_on: dt.date | None
    contact_working_days: int | None
    decision_working_days: int | None
    refusal_code: str | None
    refusal_note: str | None
    rating: int | None
    rating_comment: str | None
    overdue: bool = Field(default=False, description="超过联系或决策时限 / past the contact or decision SLA")


class OrderDetail(OrderOut):
    events: list[EventOut]


class PostedDemand(BaseModel):
    demand: DemandOut
    order: OrderOut


class Transition(BaseModel):
    """A bank's step on an order. `reject` needs `reason_code`; `approve` needs `amount_approved`."""

    action: Action
    note: str = Field(default="", max_length=500)
    reason_code: RefusalReason | None = None
    amount_approved: Decimal | None = Field(default=None, decimal_places=2, gt=0)


class Assignment(BaseModel):
    outlet_id: str = Field(description="网点机构 id / the outlet's organisation id")
    manager_id: str | None = Field(default=None, description="客户经理用户 id / customer manager's user id")


class Redispatch(BaseModel):
    bank_id: str | None = Field(
        default=None, description="改派银行；省略则按规则路由 / omit to route by rules"
    )
    note: str = Field(default="", max_length=500)


class Rating(BaseModel):
    stars: int = Field(ge=1, le=5, description="1–5 星 / stars")
    comment: str = Field(default="", max_length=500)


class ChainChiefSet(BaseModel):
    chain_code: str = Field(min_length=1, max_length=32)
    bank_id: str


class ConsultantAssign(BaseModel):
    consultant_id: str = Field(description="金融顾问用户 id / the consultant's user id")
    enterprise_id: str


class IndicatorRow(BaseModel):
    key: str | None
    name: str | None = None
    orders: int
    contacted: int
    contact_rate: Decimal | None
    avg_days_to_contact: Decimal | None
    accepted: int
    acceptance_rate: Decimal | None
    decided: int
    approved: int
    approval_rate: Decimal | None
    amount_requested: Decimal
    amount_approved: Decimal
    avg_days_to_decision: Decimal | None
    overdue: int
    overdue_rate: Decimal | None


class IndicatorTable(BaseModel):
    group_by: str
    as_of: dt.date
    filters: dict[str, str]
    rows: list[IndicatorRow]


class NoticeCreate(BaseModel):
    bank_id: str
    indicator: str = Field(description="overdue_rate | contact_rate | approval_rate | acceptance_rate")
    message: str = Field(min_length=4, max_length=2000)


class NoticeAck(BaseModel):
    note: str = Field(min_length=2, max_length=2000)


class NoticeFollowUp(BaseModel):
    note: str = Field(min_length=2, max_length=2000)


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bank_id: str
    indicator: str
    baseline: str | None
    message: str
    sent_by: str
    sent_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    ack_note: str | None
    follow_up_note: str | None
    followed_up_at: dt.datetime | None
    current: str | None = Field(default=None, description="该指标当前值 / the indicator's value now")
    change: str | None = Field(default=None, description="当前值减发出时的值 / now minus at sending")


class ExpertCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    affiliation: str = Field(min_length=1, max_length=200)
    fields: list[str] = Field(
        min_length=1, max_length=20, description="GB/T 4754 代码或前缀 / industry codes or prefixes"
    )
    available: bool = True


class ExpertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    affiliation: str
    fields: list[str]
    available: bool


class Availability(BaseModel):
    available: bool


class ExpertRequest(BaseModel):
    expert_id: str
    note: str = Field(default="", max_length=500)


class ExpertAssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    expert_id: str
    order_id: str
    note: str
    assigned_by: str
    assigned_at: dt.datetime


class ProductIn(BaseModel):
    """A bank financing product (amounts in yuan with 2 decimals; ranges inclusive)."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="产品代码 / code")
    name: str = Field(min_length=2, max_length=200, description="产品名称 / name")
    min_amount: Decimal = Field(decimal_places=2, description="最低金额（元）/ minimum amount, yuan")
    max_amount: Decimal = Field(decimal_places=2, description="最高金额（元）/ maximum amount, yuan")
    min_term_months: int = Field(description="最短期限（月）/ shortest term, months")
    max_term_months: int = Field(description="最长期限（月）/ longest term, months")
    purposes: list[str] = Field(
        default_factory=list, max_length=20, description="用途关键词，空为不限 / keywords"
    )
    security_kinds: list[str] = Field(max_length=4, description="credit, collateral, pledge, guarantee")
    industries: list[str] = Field(default_factory=list, max_length=50, description="GB/T 4754 前缀，空为不限")
    active: bool = True


class ProductOut(ProductIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bank_id: str
    updated_at: dt.datetime
