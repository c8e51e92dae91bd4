"""Input and output models of credit cards, snapshots and views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class SectionSource(BaseModel):
    bureau: str | None = Field(description="提供部门 / providing bureau")
    as_of: str | None = Field(description="数据截至日期 / data as of (YYYY-MM-DD)")


class Section(BaseModel):
    section: str = Field(
        description="板块 / section key: registration, tax, headcount, ip, judicial, penalties"
    )
    title: str
    status: str = Field(
        description="ok：有数据（可为零）/ data (counts may be zero); no_data：来源未覆盖 / not covered; "
        "withheld：数据安全策略隐去（如纳税明细需监管级别审批）/ withheld by the data-security policy"
    )
    source: SectionSource
    data: dict[str, Any] | None
    salt: str | None = Field(
        description="本板块的哈希盐，用于核对快照哈希；数据被隐去时为空 / this section's salt, to check the "
        "snapshot hash; null when the data is withheld"
    )
    section_hash: str


class SnapshotRef(BaseModel):
    version: int
    content_hash: str = Field(description="快照哈希，可在授信决定中引用 / the snapshot hash a bank cites")
    card_format: str
    created_at: dt.datetime
    section_hashes: dict[str, str] = Field(description="各板块加盐哈希 / salted hash of every section")


class CardOut(BaseModel):
    """信用信息名片 / an enterprise's credit information business card, as the caller may see it."""

    uscc: str
    name: str
    basis: str = Field(description="访问依据 / own | regulator | grant")
    purpose: str | None
    snapshot: SnapshotRef
    sections: dict[str, Section]
    not_shown: list[str] = Field(description="未获授权的板块 / sections no grant of yours covers")
    withheld: list[str] = Field(
        default_factory=list,
        description="授权覆盖但数据安全策略隐去数据的板块（纳税为5级，银行须在授权上获监管主管审批）/ sections "
        "a grant covers whose data the data-security policy withholds (tax is level 5: a bank needs a "
        "supervisor's level approval on its grant)",
    )


class SnapshotSummary(BaseModel):
    version: int
    content_hash: str
    card_format: str
    created_at: dt.datetime


class CardViewOut(BaseModel):
    """One look at the card: who, when, on what basis, which sections (谁查看了我的名片)."""

    viewed_at: dt.datetime
    viewer_org_id: str
    viewer_org_name: str
    viewer_kind: str
    viewer: str
    basis: str
    purpose: str | None
    sections: list[str]
    grant_ids: list[str]
    snapshot_version: int
    rendering: str


class SnapshotBatchResult(BaseModel):
    enterprises: int
    created: int
    unchanged: int
    skipped_unregistered: int
    seconds: float
