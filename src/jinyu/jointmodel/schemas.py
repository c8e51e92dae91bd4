"""Input and output of the platform's joint-job register (/api/v1/joint)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class SignedJobIn(BaseModel):
    """The regulator's signed job file (`jinyu joint job create` writes it) and the bank that holds the labels."""

    guest_org_id: str = Field(
        min_length=1, max_length=32, description="标签方银行总行机构 id / the bank's org"
    )
    document: dict[str, Any] = Field(
        description="{spec, regulator_key, signature}，即 job.json / the job file"
    )


class AcceptanceIn(BaseModel):
    """A party's signed acceptance (acceptance.json) and its Ed25519 public key (64 hex digits): the bank's
    (`role` guest, /acceptance) or the hub's (`role` host, /host-acceptance)."""

    acceptance: dict[str, Any]
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class ReportIn(BaseModel):
    """The bank party's signed report (`jinyu joint job report`): {report, signature}."""

    report: dict[str, Any]
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")


class JointModelOut(BaseModel):
    model_name: str
    version: int
    job_id: str
    guest_org_id: str
    data_snapshot: dict[str, Any]
    metrics: dict[str, Any]
    registered_by: str
    registered_at: dt.datetime


class JointJobOut(BaseModel):
    job_id: str
    model_name: str
    guest_org_id: str
    status: str
    spec: dict[str, Any]
    spec_sha256: str
    declared_by: str
    declared_at: dt.datetime
    accepted_by: str | None
    accepted_at: dt.datetime | None
    host_accepted_by: str | None
    host_accepted_at: dt.datetime | None
    reported_at: dt.datetime | None
    report_status: str | None
    model: JointModelOut | None


class JointPage(BaseModel, Generic[T]):
    """Keyset pages like the audit trail's: pass `next_cursor` back as `cursor` for the next page."""

    items: list[T]
    limit: int
    next_cursor: str | None = Field(description="下一页游标；无则为空 / cursor of the next page, if any")
