"""What `jinyu keys` and /api/v1/keys show: versions and their state, never key material."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from jinyu.core.privacy import TOKEN_PATTERN


class KeyVersionOut(BaseModel):
    version: int
    state: str = Field(description="current 在用 | grace 宽限期 | retired 已停用 | pending 轮换中")
    since: dt.datetime | None = Field(None, description="when it came into force (None: before versioning)")
    old_tokens_resolve_until: dt.datetime | None = Field(
        None, description="tokens of this version still translate until then (after its successor came in)"
    )


class KeyStatusOut(BaseModel):
    current: int
    pending: int | None = None
    rotation_in_progress: bool = False
    grace_days: int
    token_format: str = Field(description="how a token names its version")
    versions: list[KeyVersionOut]


class RotationPlanOut(BaseModel):
    from_version: int
    to_version: int
    lake_files: int
    lake_rows: int
    lake_bytes: int
    store_rows: dict[str, int] = Field(description="rows per table.column of the operational store")
    estimated_seconds: float = Field(description="from rewriting a sample in memory, scaled by file size")
    dry_run: bool = True


class RotationOut(RotationPlanOut):
    lake_files_swapped: int = 0
    audit_id: str | None = None


class TranslateOut(BaseModel):
    token: str
    version: int
    current_token: str
    current_version: int


# At most one audit entry's worth of subject ids (audit.rules.MAX_SUBJECT_IDS): the answered tokens are named there.
MAX_TRANSLATE = 1000

TranslateError = Literal["already_current", "expired", "unknown_version"]


class TranslateIn(BaseModel):
    tokens: list[Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]] = Field(
        min_length=1,
        max_length=MAX_TRANSLATE,
        description="假名令牌（任意版本）/ pseudonym tokens of any version: pt_<32 hex> or pt_v<n>_<32 hex>",
    )


class TokenTranslationOut(BaseModel):
    """One token's answer: its current-version equivalent, or why there is none."""

    token: str
    version: int | None = Field(description="the key version the token names")
    current_token: str | None = Field(
        None,
        description="the same subject's token at the current version (the token itself if already current)",
    )
    error: TranslateError | None = Field(
        None,
        description="already_current 已是当前版本 | expired 已过宽限期 | unknown_version 未知版本（更新或轮换中）",
    )
    expired_on: dt.datetime | None = Field(None, description="when an expired token's grace period ended")


class TranslateBatchOut(BaseModel):
    current_version: int
    grace_days: int
    items: list[TokenTranslationOut] = Field(description="one per token sent, in the same order")
