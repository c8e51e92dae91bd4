"""What `jinyu keys` and GET /api/v1/keys show: versions and their state, never key material."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
