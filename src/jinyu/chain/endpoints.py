"""HTTP handlers of industrial-chain analytics (/api/v1/chains)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from jinyu.chain import catalogue, counterparties, portraits, scoring, service
from jinyu.chain.schemas import (
    ChainDefinitionIn,
    ChainDefinitionOut,
    ChainOut,
    ContagionOut,
    CounterpartyHealthOut,
    DefinitionVersionOut,
    ExternalFlow,
    FlowsOut,
    GapOut,
    LoansOut,
    MemberOut,
    NetworkOut,
    PortraitBatchOut,
    ScorecardOut,
    SegmentOverrideIn,
)
from jinyu.consent.rules import Purpose
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require

router = APIRouter(prefix="/chains", tags=["chain 产业链"])

MonthQ = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
OptionalMonthQ = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@router.get("", response_model=list[ChainOut])
def list_chains(
    request: Request, session: SessionDep, principal: Principal = require(Perm.CHAIN_READ)
) -> list[ChainOut]:
    """产业链及各环节成员数、金融链长 / chains with their segments, member counts and chain chief bank."""
    return service.list_chains(session, principal, request.app.state.analytics)


@router.get("/{code}", response_model=ChainOut)
def get_chain(
    code: str, request: Request, session: SessionDep, principal: Principal = require(Perm.CHAIN_READ)
) -> ChainOut:
    """一条产业链 / one chain."""
    return service.get_chain(session, principal, request.app.state.analytics, code)


@router.get("/{code}/members", response_model=Page[MemberOut])
def list_members(
    code: str,
    request: Request,
    session: SessionDep,
    segment: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(Perm.CHAIN_READ),
) -> Page[MemberOut]:
    """产业链成员（链主在前）/ members of the chain, core enterprise first."""
    return service.list_members(session, principal, request.app.state.analytics, code, segment, limit, offset)


@router.get("/{code}/flows", response_model=FlowsOut)
def flows(
    code: str,
    request: Request,
    session: SessionDep,
    from_month: MonthQ,
    to_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> FlowsOut:
    """环节间月度资金流与净流入 / monthly money between segments and each segment's net inflow."""
    return service.flows(session, principal, request.app.state.analytics, code, from_month, to_month)


@router.get("/{code}/external-flows", response_model=list[ExternalFlow])
def external_flows(
    code: str,
    request: Request,
    session: SessionDep,
    from_month: MonthQ,
    to_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> list[ExternalFlow]:
    """链内、他链、区内、区外资金往来 / money in and out by counterparty class."""
    return service.external_flows(session, principal, request.app.state.analytics, code, from_month, to_month)


@router.get("/{code}/gaps", response_model=list[GapOut])
def gaps(
    code: str,
    request: Request,
    session: SessionDep,
    from_month: MonthQ,
    to_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> list[GapOut]:
    """延链、补链、强链建议 / where to extend, supplement or strengthen the chain."""
    return service.gaps(session, principal, request.app.state.analytics, code, from_month, to_month)


@router.get("/{code}/network", response_model=NetworkOut)
def network_position(
    code: str,
    request: Request,
    session: SessionDep,
    as_of_month: MonthQ,
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
    principal: Principal = require(Perm.CHAIN_READ),
) -> NetworkOut:
    """核心企业（加权 PageRank、介数）/ core enterprises by network position."""
    return service.network_position(session, principal, request.app.state.analytics, code, as_of_month, top)


@router.get("/{code}/members/{uscc}/counterparties", response_model=CounterpartyHealthOut)
def counterparty_health(
    code: str,
    uscc: str,
    request: Request,
    session: SessionDep,
    as_of_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> CounterpartyHealthOut:
    """企业上游供应商与下游经销商的健康状况 / health of a member's suppliers and dealers."""
    engine = request.app.state.analytics
    return counterparties.counterparty_health(session, principal, engine, code, uscc, as_of_month)


@router.get("/{code}/members/{uscc}/contagion", response_model=ContagionOut)
def contagion(
    code: str,
    uscc: str,
    request: Request,
    session: SessionDep,
    as_of_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> ContagionOut:
    """若该企业停止付款，哪些供应商受损、损失多少 / who is exposed if this enterprise stops paying (DebtRank)."""
    return counterparties.contagion_of(
        session, principal, request.app.state.analytics, code, uscc, as_of_month
    )


@router.get("/{code}/loans", response_model=LoansOut)
def loans(
    code: str,
    request: Request,
    session: SessionDep,
    from_month: MonthQ,
    to_month: MonthQ,
    principal: Principal = require(Perm.CHAIN_READ),
) -> LoansOut:
    """产业链贷款：按季度、环节、银行、期限；覆盖面 / loans to the chain by quarter, segment, bank, term."""
    return service.chain_loans(session, principal, request.app.state.analytics, code, from_month, to_month)


@router.get("/{code}/portraits", response_model=PortraitBatchOut)
def portrait_batch(
    code: str,
    request: Request,
    session: SessionDep,
    as_of_month: MonthQ,
    purpose: Purpose = Purpose.CREDIT_ASSESSMENT,
    calibrate: Annotated[
        bool, Query(description="校准（默认）/ isotonic-calibrated model (default); false: trained on M − 6")
    ] = True,
    principal: Principal = require(Perm.CHAIN_PORTRAIT),
) -> PortraitBatchOut:
    """批量画像：银行仅获得已授权企业 / batch portraits; a bank receives only members that authorised it."""
    engine = request.app.state.analytics
    return portraits.portrait_batch(session, principal, engine, code, as_of_month, purpose, calibrate)


@router.get("/{code}/scorecard", response_model=ScorecardOut)
def scorecard(
    code: str,
    request: Request,
    session: SessionDep,
    train_month: MonthQ,
    test_month: MonthQ,
    calibration_month: OptionalMonthQ = None,
    calibration_method: Annotated[
        Literal["isotonic", "platt"],
        Query(description="校准方法 / calibration method (with calibration_month)"),
    ] = "isotonic",
    principal: Principal = require(Perm.CHAIN_READ),
) -> ScorecardOut:
    """评分卡：训练月建模，留出月评估（AUC、KS、校准）/ scorecard trained on one month, evaluated on a later one."""
    engine = request.app.state.analytics
    return scoring.run(
        session, principal, engine, code, train_month, test_month, calibration_month, calibration_method
    )


@router.get("/{code}/definition", response_model=ChainDefinitionOut)
def get_definition(
    code: str, session: SessionDep, principal: Principal = require(Perm.CHAIN_READ)
) -> ChainDefinitionOut:
    """产业链定义（当前版本）/ the chain's current definition: segments, GB/T 4754 classes, overrides, version."""
    return catalogue.get_definition(session, principal, code)


@router.put("/{code}/definition", response_model=ChainDefinitionOut)
def edit_definition(
    code: str,
    data: ChainDefinitionIn,
    session: SessionDep,
    principal: Principal = require(Perm.CHAIN_DEFINE),
) -> ChainDefinitionOut:
    """修改产业链定义（监管，带版本号，过期 409）/ edit the definition from the version read (stale: 409)."""
    return catalogue.edit(session, principal, code, data)


@router.get("/{code}/definition/versions", response_model=list[DefinitionVersionOut])
def definition_versions(
    code: str, session: SessionDep, principal: Principal = require(Perm.CHAIN_READ)
) -> list[DefinitionVersionOut]:
    """定义的历史版本 / the definition's versions, newest first."""
    return catalogue.history(session, principal, code)


@router.put("/{code}/members/{uscc}/segment", response_model=ChainDefinitionOut)
def set_member_segment(
    code: str,
    uscc: str,
    data: SegmentOverrideIn,
    session: SessionDep,
    principal: Principal = require(Perm.CHAIN_DEFINE),
) -> ChainDefinitionOut:
    """改派企业所属环节（null 恢复数据集的归属）/ put one enterprise in a segment (null: back to the dataset)."""
    return catalogue.set_segment(session, principal, code, uscc, data)
