"""HTTP handlers of the financing domain: thin — declare the permission, call one service function."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require
from jinyu.financing import service
from jinyu.financing.calendars import load_calendar
from jinyu.financing.rules import REFUSAL_TEXT, OrderState
from jinyu.financing.schemas import (
    Assignment,
    Availability,
    ChainChiefSet,
    ConsultantAssign,
    DemandCreate,
    ExpertAssignmentOut,
    ExpertCreate,
    ExpertOut,
    ExpertRequest,
    IndicatorTable,
    NoticeAck,
    NoticeCreate,
    NoticeFollowUp,
    NoticeOut,
    OrderDetail,
    OrderOut,
    PostedDemand,
    ProductIn,
    ProductOut,
    Rating,
    Redispatch,
    Transition,
)
from jinyu.financing.service.demands import post_once
from jinyu.financing.sla import WorkCalendar

router = APIRouter(prefix="/financing", tags=["financing 融资对接"])
Key = Annotated[str | None, Query(max_length=64)]


def _calendar(request: Request) -> WorkCalendar:
    return load_calendar(request.app.state.settings.data_dir)


@router.post("/demands", response_model=PostedDemand, status_code=status.HTTP_201_CREATED)
def post_demand(
    data: DemandCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_DEMAND),
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> PostedDemand:
    """企业发布融资需求，平台立即派单 / an enterprise posts a demand; its first work order is dispatched.
    With `Idempotency-Key` (per enterprise): the same key and body again → 200 with the first demand and
    `Idempotent-Replayed: true`; the same key with another body → 409 `idempotency_conflict`."""
    posted, replayed = post_once(session, principal, data, _calendar(request), idempotency_key)
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return posted


@router.get("/orders", response_model=Page[OrderOut])
def list_orders(
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_READ),
    state: OrderState | None = None,
    bank: Key = None,
    branch: Key = None,
    outlet: Key = None,
    manager: Key = None,
    district: Key = None,
    industry: Key = None,
    chain: Key = None,
    month: Key = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OrderOut]:
    """可见范围内的工单 / work orders the caller may see, newest first."""
    given = {"state": state.value if state else None, "bank": bank, "branch": branch, "outlet": outlet}
    given |= {"manager": manager, "district": district, "industry": industry, "chain": chain, "month": month}
    filters = {k: v for k, v in given.items() if v is not None}
    return service.list_orders(session, principal, filters, limit, offset)


@router.get("/orders/{order_id}", response_model=OrderDetail)
def get_order(
    order_id: str, session: SessionDep, principal: Principal = require(Perm.FINANCING_READ)
) -> OrderDetail:
    """一张工单及其全部历史 / one order with its history."""
    return service.get_order(session, principal, order_id)


@router.post("/orders/{order_id}/assignment", response_model=OrderOut)
def assign(
    order_id: str,
    data: Assignment,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_ASSIGN),
) -> OrderOut:
    """银行分派网点与客户经理 / the bank assigns an outlet and a customer manager."""
    return service.assign(session, principal, order_id, data)


@router.post("/orders/{order_id}/transitions", response_model=OrderOut)
def transition(
    order_id: str,
    data: Transition,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_HANDLE),
) -> OrderOut:
    """承办银行推进工单：accept, contact, review, approve, reject, disburse, close."""
    return service.act(session, principal, order_id, data, _calendar(request))


@router.post("/orders/{order_id}/redispatch", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def redispatch(
    order_id: str,
    data: Redispatch,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_DEMAND),
) -> OrderOut:
    """被拒绝或超时的工单改派他行，返回新工单 / re-dispatch a rejected or overdue order: the new order."""
    return service.redispatch(session, principal, order_id, data, _calendar(request))


@router.post("/orders/{order_id}/rating", response_model=OrderOut)
def rate(
    order_id: str, data: Rating, session: SessionDep, principal: Principal = require(Perm.FINANCING_DEMAND)
) -> OrderOut:
    """企业评价服务 / the enterprise rates the service (once, after the decision)."""
    return service.rate(session, principal, order_id, data)


@router.get("/refusal-reasons", response_model=dict[str, str])
def refusal_reasons(principal: Principal = require(Perm.FINANCING_READ)) -> dict[str, str]:
    """拒绝原因代码 / the refusal reason codes."""
    return {code.value: text for code, text in REFUSAL_TEXT.items()}


@router.get("/indicators", response_model=IndicatorTable)
def indicators(
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_READ),
    group_by: str = "bank",
    sort: str = "overdue",
    limit: Limit = 50,
    as_of: dt.date | None = None,
    bank: Key = None,
    branch: Key = None,
    outlet: Key = None,
    manager: Key = None,
    district: Key = None,
    industry: Key = None,
    chain: Key = None,
    month: Key = None,
) -> IndicatorTable:
    """指标体系，按维度分组、可下钻 / indicators by bank, branch, outlet, manager, district, industry, chain or
    month; filter by any of them to drill down (e.g. bank=<id>&group_by=outlet)."""
    given = {"bank": bank, "branch": branch, "outlet": outlet, "manager": manager, "district": district}
    given |= {"industry": industry, "chain": chain, "month": month}
    filters = {k: v for k, v in given.items() if v is not None}
    return service.indicators(session, principal, group_by, filters, sort, limit, as_of)


@router.post("/guidance", response_model=NoticeOut, status_code=status.HTTP_201_CREATED)
def send_guidance(
    data: NoticeCreate, session: SessionDep, principal: Principal = require(Perm.FINANCING_SUPERVISE)
) -> NoticeOut:
    """向落后银行发出窗口指导 / send window guidance to a lagging bank."""
    return service.guidance.send(session, principal, data)


@router.get("/guidance", response_model=Page[NoticeOut])
def list_guidance(
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_READ),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[NoticeOut]:
    return service.guidance.list_notices(session, principal, limit, offset)


@router.get("/guidance/{notice_id}", response_model=NoticeOut)
def get_guidance(
    notice_id: str, session: SessionDep, principal: Principal = require(Perm.FINANCING_READ)
) -> NoticeOut:
    return service.guidance.get(session, principal, notice_id)


@router.post("/guidance/{notice_id}/acknowledgement", response_model=NoticeOut)
def acknowledge(
    notice_id: str,
    data: NoticeAck,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_GUIDANCE_ACK),
) -> NoticeOut:
    """银行确认收到窗口指导 / the bank acknowledges the notice."""
    return service.guidance.acknowledge(session, principal, notice_id, data)


@router.post("/guidance/{notice_id}/follow-up", response_model=NoticeOut)
def follow_up(
    notice_id: str,
    data: NoticeFollowUp,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_SUPERVISE),
) -> NoticeOut:
    return service.guidance.follow_up(session, principal, notice_id, data)


@router.put("/chain-chiefs", response_model=ChainChiefSet)
def set_chain_chief(
    data: ChainChiefSet, session: SessionDep, principal: Principal = require(Perm.FINANCING_MANAGE)
) -> ChainChiefSet:
    """指定产业链的链长主办行（路由使用）/ appoint a chain's chief bank (routing uses it)."""
    return service.set_chain_chief(session, principal, data)


@router.get("/chain-chiefs", response_model=list[ChainChiefSet])
def list_chain_chiefs(
    session: SessionDep, principal: Principal = require(Perm.FINANCING_READ)
) -> list[ChainChiefSet]:
    return service.list_chain_chiefs(session, principal)


@router.post("/consultant-assignments", response_model=ConsultantAssign, status_code=status.HTTP_201_CREATED)
def assign_consultant(
    data: ConsultantAssign, session: SessionDep, principal: Principal = require(Perm.FINANCING_MANAGE)
) -> ConsultantAssign:
    """为企业指派金融顾问 / assign a financial consultant to an enterprise."""
    return service.assign_consultant(session, principal, data)


@router.post("/experts", response_model=ExpertOut, status_code=status.HTTP_201_CREATED)
def create_expert(
    data: ExpertCreate, session: SessionDep, principal: Principal = require(Perm.FINANCING_MANAGE)
) -> ExpertOut:
    """登记行业专家 / add an industry expert."""
    return service.experts.create(session, principal, data)


@router.get("/experts", response_model=list[ExpertOut])
def search_experts(
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_READ),
    industry: Key = None,
    available: bool | None = None,
) -> list[ExpertOut]:
    """按行业与可用性查找专家 / experts covering an industry code, by availability."""
    return service.experts.search(session, principal, industry, available)


@router.post("/experts/{expert_id}/availability", response_model=ExpertOut)
def set_expert_availability(
    expert_id: str,
    data: Availability,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_MANAGE),
) -> ExpertOut:
    return service.experts.set_availability(session, principal, expert_id, data)


@router.post(
    "/orders/{order_id}/experts", response_model=ExpertAssignmentOut, status_code=status.HTTP_201_CREATED
)
def assign_expert(
    order_id: str,
    data: ExpertRequest,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_ASSIGN),
) -> ExpertAssignmentOut:
    """为工单指派行业专家 / put an expert on an order (the handling bank)."""
    return service.experts.assign(session, principal, order_id, data)


@router.get("/orders/{order_id}/experts", response_model=list[ExpertAssignmentOut])
def order_experts(
    order_id: str, session: SessionDep, principal: Principal = require(Perm.FINANCING_READ)
) -> list[ExpertAssignmentOut]:
    return service.experts.of_order(session, principal, order_id)


@router.get("/products", response_model=list[ProductOut])
def list_products(
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_READ),
    bank_id: Key = None,
    active: bool | None = None,
) -> list[ProductOut]:
    """银行融资产品 / banks' financing products (filter by bank and active flag)."""
    return service.products.list_products(session, principal, bank_id, active)


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def create_product(
    data: ProductIn, session: SessionDep, principal: Principal = require(Perm.FINANCING_ASSIGN)
) -> ProductOut:
    """银行登记本行产品 / a bank registers one of its own products (409 if the code exists)."""
    return service.products.create(session, principal, data)


@router.put("/products/{product_id}", response_model=ProductOut)
def update_product(
    product_id: str,
    data: ProductIn,
    session: SessionDep,
    principal: Principal = require(Perm.FINANCING_ASSIGN),
) -> ProductOut:
    """银行替换本行产品 / a bank replaces one of its own products (another bank's: 404)."""
    return service.products.update(session, principal, product_id, data)
