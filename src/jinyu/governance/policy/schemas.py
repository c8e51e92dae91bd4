"""Input and output models of level approvals and of the policy itself."""

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
    in_force: bool = Field(description="当前是否有效 / in force now")
