"""The purpose × use matrix over the API and the CLI."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class MatrixEntry(BaseModel):
    purpose: str = Field(description="贷款用途代码 / purpose code (docs/risk-tracing.md)")
    kind: str = Field(
        description="资金用途类别 / use: securities | real_estate | other_loan | intermediary_repayment | shell"
    )
    prohibited: bool = Field(
        description="该用途的贷款是否禁止流向此类 / prohibited for loans of this purpose"
    )
    rule: str = Field("", description="矩阵行名 / the line's name, purpose×kind (filled in on output)")


class PurposeOut(BaseModel):
    code: str
    label: str


class PurposeMatrixOut(BaseModel):
    """用途相容性矩阵 / the purpose × use matrix (a version)."""

    version: int = Field(description="版本号；0 为内置默认 / version; 0 is the built-in default")
    source: Literal["built_in", "stored"]
    note: str
    created_by: str | None
    created_at: dt.datetime | None
    purposes: list[PurposeOut]
    kinds: list[str]
    entries: list[MatrixEntry]


class PurposeMatrixIn(BaseModel):
    """新版本：完整矩阵（每个用途 × 每类各一行）/ a new version: the whole matrix, one line per purpose and kind."""

    base_version: int = Field(
        ge=0, description="修改所依据的版本（须为当前版本）/ the version this edits; must be the one in force"
    )
    note: str = Field(min_length=1, max_length=500, description="修改说明 / why it changes")
    entries: list[MatrixEntry] = Field(min_length=1, max_length=1000)
