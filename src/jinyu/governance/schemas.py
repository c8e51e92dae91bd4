"""Governance input and output models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RuleOut(BaseModel):
    code: str
    dataset: str
    kind: str
    category: str
    title: str
    version: int
    active: bool
    source: str  # standard (shipped YAML) | api
    body: dict[str, Any]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str | None = Field(
        default=None, description="空 = 全部已加载数据集 / empty: every loaded dataset"
    )
    as_of: dt.date | None = Field(
        default=None, description="检查日 / check day (default: today, Asia/Shanghai)"
    )
    full: bool = Field(
        default=False, description="重新扫描全部文件 / scan every file again instead of only unchecked ones"
    )


class CheckRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset: str
    trigger: str
    load_id: str | None
    as_of: dt.date
    engine: str
    rule_set: list[str]
    findings: dict[str, Any]
    rows_checked: int
    rows_anomalous: int
    anomaly_rate_pct: Decimal | None = None
    started_at: dt.datetime
    finished_at: dt.datetime


class TrendPoint(BaseModel):
    provider: str
    period: str
    checked: int
    anomalous: int
    anomaly_rate_pct: Decimal | None


class RuleFailures(BaseModel):
    provider: str
    dataset: str
    rule_code: str
    checked: int
    failed: int
    failure_rate_pct: Decimal | None


class ReportOut(BaseModel):
    definition: str
    trend: list[TrendPoint]
    by_year: list[TrendPoint]
    rules: list[RuleFailures]
    runs: list[str]


class RemediationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset: str
    provider: str
    rule_code: str
    period: str
    failed_at_open: int
    failed_now: int
    status: str
    assignee: str | None
    response: str | None
    opened_at: dt.datetime
    updated_at: dt.datetime


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(
        default=None, max_length=64, description="提供方联系人 / contact at the provider"
    )
    note: str | None = Field(default=None, max_length=2000)


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="停用原因 / why the rule is retired")


class RespondIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(min_length=1, max_length=2000, description="原因与更正 / cause and correction made")


class ProviderOut(BaseModel):
    code: str
    kind: str
    name: str
    datasets: list[str]
    per_row: bool


class ColumnClassOut(BaseModel):
    column: str
    kind: str
    level: str
    personal: bool
    jrt0171: str | None
    jrt0197: int
    identifier: str


class ContractVersionOut(BaseModel):
    dataset: str
    version: int
    recorded: bool  # the live contract equals the latest recorded version
    columns: list[ColumnClassOut]
    history: list[dict[str, Any]]
