"""HTTP handlers under /api/v1/governance: providers, rules, checks, the report and remediation."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status

from jinyu.analytics import Lake
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.governance import chart, remediation, service
from jinyu.governance.registry import providers
from jinyu.governance.rules import Rule
from jinyu.governance.schemas import (
    AssignIn,
    CheckRequest,
    CheckRunOut,
    ContractVersionOut,
    ProviderOut,
    RemediationOut,
    ReportOut,
    RespondIn,
    RetireIn,
    RuleOut,
)

router = APIRouter(prefix="/governance", tags=["governance 数据治理"])


@router.get("/providers", response_model=list[ProviderOut])
def list_providers(principal: Principal = require(Perm.GOVERNANCE_READ)) -> list[ProviderOut]:
    """数据提供方与其数据集 / data providers and the datasets each provides."""
    return [ProviderOut(**p.model_dump()) for p in providers()]


@router.get("/contracts", response_model=list[ContractVersionOut])
def list_contract_versions(principal: Principal = require(Perm.GOVERNANCE_READ)) -> list[ContractVersionOut]:
    """数据契约版本与列分级 / contract versions, column changes and the classification of every column."""
    return service.contract_versions(principal)


@router.get("/contracts/{dataset}", response_model=ContractVersionOut)
def get_contract_version(
    dataset: str, principal: Principal = require(Perm.GOVERNANCE_READ)
) -> ContractVersionOut:
    return service.contract_versions(principal, dataset)[0]


@router.get("/rules", response_model=list[RuleOut])
def list_rules(
    session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_READ), dataset: str | None = None
) -> list[RuleOut]:
    """生效的质量规则 / the quality rules in force (shipped set and API versions)."""
    return service.list_rules(session, principal, dataset)


@router.get("/rules/{code}", response_model=RuleOut)
def get_rule(code: str, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_READ)) -> RuleOut:
    return service.get_rule(session, principal, code)


@router.put("/rules/{code}", response_model=RuleOut)
def put_rule(
    code: str, rule: Rule, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_MANAGE)
) -> RuleOut:
    """新增规则或新版本 / add a rule or a new version of it (the body's code must match the path)."""
    from jinyu.core.errors import invalid

    if rule.code != code:
        raise invalid("code", "路径与正文中的规则编号不同 / the path and body codes differ")
    return service.put_rule(session, principal, rule)


@router.post("/rules/{code}/retire", response_model=RuleOut)
def retire_rule(
    code: str, body: RetireIn, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_MANAGE)
) -> RuleOut:
    """停用规则（新版本 active=false，已审计）/ retire a rule: a new inactive version, audited; 409 if retired."""
    return service.retire_rule(session, principal, code, body.reason)


@router.post("/checks", response_model=list[CheckRunOut], status_code=status.HTTP_201_CREATED)
def run_check(
    body: CheckRequest,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.GOVERNANCE_MANAGE),
) -> list[CheckRunOut]:
    """运行质量检查（单次扫描/数据集）/ run the quality check: one scan per dataset, results stored."""
    settings = request.app.state.settings
    return service.check(
        session,
        principal,
        request.app.state.analytics,
        Lake(settings.lake_dir),
        body.dataset,
        as_of=body.as_of,
        full=body.full,
    )


@router.get("/report", response_model=ReportOut)
def get_report(
    session: SessionDep,
    principal: Principal = require(Perm.GOVERNANCE_READ),
    provider: str | None = None,
    dataset: str | None = None,
) -> ReportOut:
    """异常率趋势（按提供方、月份、年份）及其背后的规则 / anomaly-rate trend and the rules behind it."""
    return service.report(session, principal, provider=provider, dataset=dataset)


@router.get("/report/chart", responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}})
def get_chart(
    session: SessionDep,
    principal: Principal = require(Perm.GOVERNANCE_READ),
    provider: str | None = None,
    dataset: str | None = None,
    format: Literal["svg", "png"] = "svg",
) -> Response:
    """趋势图 / the trend as SVG or PNG."""
    report = service.report(session, principal, provider=provider, dataset=dataset)
    media = "image/svg+xml" if format == "svg" else "image/png"
    return Response(chart.trend_chart(report.trend, format), media_type=media)


@router.get("/remediation", response_model=list[RemediationOut])
def list_remediation(
    session: SessionDep,
    principal: Principal = require(Perm.GOVERNANCE_READ),
    status: str | None = None,
    provider: str | None = None,
) -> list[RemediationOut]:
    """整改单（提供方只见本机构）/ remediation items; a provider sees only its own."""
    return remediation.list_items(session, principal, status=status, provider=provider)


@router.get("/remediation/{item_id}", response_model=RemediationOut)
def get_remediation(
    item_id: str, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_READ)
) -> RemediationOut:
    return remediation.get_item(session, principal, item_id)


@router.get("/remediation/{item_id}/events")
def remediation_events(
    item_id: str, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_READ)
) -> list[dict[str, object]]:
    return remediation.history(session, principal, item_id)


@router.post("/remediation/{item_id}/assign", response_model=RemediationOut)
def assign_remediation(
    item_id: str, body: AssignIn, session: SessionDep, principal: Principal = require(Perm.GOVERNANCE_MANAGE)
) -> RemediationOut:
    return remediation.assign(session, principal, item_id, body)


@router.post("/remediation/{item_id}/respond", response_model=RemediationOut)
def respond_remediation(
    item_id: str,
    body: RespondIn,
    session: SessionDep,
    principal: Principal = require(Perm.REMEDIATION_RESPOND),
) -> RemediationOut:
    """提供方答复并重新报送 / the provider answers; the next check verifies and closes the item."""
    return remediation.respond(session, principal, item_id, body)
