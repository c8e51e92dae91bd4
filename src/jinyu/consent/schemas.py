"""Input and output models of consent grants."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from jinyu.consent.rules import Purpose, Scope


class GrantCreate(BaseModel):
    grantee_org_id: str = Field(description="被授权银行（总行或其分支机构）/ the bank being authorized")
    scopes: list[Scope] = Field(min_length=1)
    purpose: Purpose
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime


class GrantRevoke(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    enterprise_org_id: str
    grantee_org_id: str
    scopes: list[str]
    purpose: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    state: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
