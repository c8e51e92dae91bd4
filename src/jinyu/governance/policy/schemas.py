"""Input and output models of level approvals, of the policy itself and of de-identified extracts."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from jinyu.governance.policy.approval_rules import APPROVABLE_LEVELS


class ApprovalCreate(BaseModel):
    level: int = Field(
        ge=min(APPROVABLE_LEVELS),
        le=max(APPROVABLE_LEVELS),
        description="开放的最高数据安全级别（4 或 5）/ the highest data security level opened (4 or 5)",
    )
    reason: str = Field(min_length=4, max_length=500, description="审批理由 / why the release is justified")
    valid_from: dt.datetime | None = Field(default=None, description="默认现在 / default now")
    valid_until: dt.datetime = Field(
        description="最长 90 天，且不超出授权 / at most 90 days, within the grant"
    )


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    grant_id: str
    level: int
    reason: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    policy_version: str
    approved_by: str
    approver_org_id: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = Field(default=None, description="提前撤销时间 / when revoked early")
    revoked_by: str | None = None
    revoke_reason: str | None = None
    in_force: bool = Field(description="当前是否有效 / in force now")


class ApprovalRevoke(BaseModel):
    reason: str = Field(
        min_length=4, max_length=500, description="提前撤销的理由 / why the approval ends early"
    )


class Disclosure(BaseModel):
    """What an export or report left out to keep every group at least k persons or enterprises, and why."""

    rule: str = Field(default="k_anonymity", description="依据的策略规则 / the policy rule applied")
    k: int = Field(description="最小组规模 / the minimum group size")
    suppressed: int = Field(description="被抑制的行或单元数 / rows or cells left out or blanked")
    generalised: dict[str, str] = Field(
        default_factory=dict,
        description="被泛化的字段及粒度（如 date→month）/ fields coarsened, and to what (e.g. month, city)",
    )
    reason: str = Field(
        default="少于 k 个对象的组可识别个体 / a group of fewer than k could single someone out",
    )


class ExtractIn(BaseModel):
    dataset: str = Field(description="数据集，如 claim_visits / the lake dataset, e.g. claim_visits")
    columns: list[str] = Field(min_length=1, max_length=60, description="要提取的列 / the columns wanted")
    reason: str = Field(
        min_length=4, max_length=200, description="用途（记入审计）/ what it is for (audited)"
    )
    from_month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    to_month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    limit: int = Field(default=100_000, ge=1, le=1_000_000, description="最多读取行数 / rows read at most")


class ExtractOut(BaseModel):
    dataset: str
    columns: list[str]
    # De-identified by construction (docs/data-security.md, "De-identified extracts"): direct identifiers
    # re-keyed for this extract, quasi-identifiers k-anonymous, level 4+ columns refused.
    rows: list[dict[str, str | int | bool | None]]
    rows_read: int
    pseudonymized: list[str]
    quasi_identifiers: list[str]
    counted_by: str  # the column whose distinct values k counts, or "row"
    disclosure: dict[str, object]  # rule, k, suppressed rows, the granularity each quasi-identifier reached
    policy_version: str
