"""Input and output models of the party domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from jinyu.core.auth import OrgKind, Role
from jinyu.party.rules import RegistrationState


class OrgCreate(BaseModel):
    kind: OrgKind
    code: str = Field(
        min_length=1, max_length=64, description="USCC for enterprises, institution code otherwise"
    )
    name: str = Field(min_length=1, max_length=200)
    parent_code: str | None = Field(default=None, description="bank branches/outlets: the parent's code")
    uscc: str | None = None
    district_code: str | None = None
    industry_code: str | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    code: str
    name: str
    uscc: str | None
    parent_id: str | None
    tenant_id: str
    district_code: str | None
    industry_code: str | None
    attrs: dict[str, Any]


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    org_id: str
    roles: list[Role] = Field(min_length=1)
    password: SecretStr


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    org_id: str
    roles: list[str]
    active: bool
    last_login_at: dt.datetime | None


class Me(BaseModel):
    user: UserOut | None
    service_account: str | None
    organisation: OrgOut
    roles: list[str]
    permissions: list[str]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ServiceAccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    org_id: str
    roles: list[Role] = Field(min_length=1)


class ServiceAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    org_id: str
    roles: list[str]
    active: bool = True
    key_prefix: str | None = Field(default=None, description="the key's public part, before the dot")
    key_issued_at: dt.datetime | None = None
    key_revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    api_key: str | None = Field(
        default=None, description="shown once, at creation or rotation / 仅在创建或轮换时显示一次"
    )


class Suspension(BaseModel):
    """PATCH body of a user or a service account: suspend (`active: false`) or reactivate, with a reason."""

    active: bool = Field(description="false: 停用 / suspend; true: 恢复 / reactivate")
    reason: str = Field(min_length=2, max_length=500, description="理由，记入审计 / reason, audited")


class Revocation(BaseModel):
    reason: str = Field(min_length=2, max_length=500, description="理由，记入审计 / reason, audited")


class PasswordChange(BaseModel):
    current_password: SecretStr
    new_password: SecretStr


class PasswordSet(BaseModel):
    password: SecretStr
    reason: str = Field(min_length=2, max_length=500)


class RegistrationSubmit(BaseModel):
    legal_rep_id: SecretStr = Field(description="法定代表人身份证号 / legal representative's resident ID")
    legal_rep_name: str = Field(min_length=1, max_length=50)


class RegistrationDecision(BaseModel):
    state: RegistrationState
    reason: str = Field(min_length=2, max_length=500)


class RegistrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    legal_rep_masked: str
    legal_rep_name_masked: str
    state: str
    reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
