"""Governance tables: rules added through the API (versioned), check runs and their results, remediation items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class QualityRule(Base):
    """One version of a rule; a new version of a code replaces the earlier ones (the shipped set's too)."""

    __tablename__ = "governance_rules"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckRun(Base):
    __tablename__ = "governance_check_runs"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # load | scheduled | manual
    load_id: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    engine: Mapped[str] = mapped_column(String(16))
    rule_set: Mapped[list[str]] = mapped_column(JSON)  # code@version of every rule applied
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)  # skipped rules, freshness and drift verdicts
    rows_checked: Mapped[int] = mapped_column(Integer)
    rows_anomalous: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckResult(Base):
    """Failures of one rule (or, with rule_code '*', anomalous records) per run, provider and period."""

    __tablename__ = "governance_check_results"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("governance_check_runs.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(7))
    rule_code: Mapped[str] = mapped_column(String(80))
    rule_version: Mapped[int] = mapped_column(Integer)
    checked: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)


class RemediationItem(Base):
    """Defects of one rule for one provider and period, owned by the providing organisation until verified."""

    __tablename__ = "governance_remediation"
    __table_args__ = (UniqueConstraint("dataset", "provider", "rule_code", "period", "opened_run_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(64), index=True)
    rule_code: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(7))
    failed_at_open: Mapped[int] = mapped_column(Integer)
    failed_now: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open assigned fixed verified
    assignee: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    opened_run_id: Mapped[str] = mapped_column(String(36))
    last_run_id: Mapped[str] = mapped_column(String(36))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemediationEvent(Base):
    __tablename__ = "governance_remediation_events"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("governance_remediation.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rejection(Base):
    """A record ingestion refused (quarantined), outstanding until a later load brings a record with its key:
    it counts as checked and anomalous in its provider's and period's rate while outstanding."""

    __tablename__ = "governance_rejections"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    key_text: Mapped[str] = mapped_column(String(300), index=True)
    reason: Mapped[str] = mapped_column(String(80))  # the first problem's reason code
    load_id: Mapped[str] = mapped_column(String(64))
    resolved_by_load: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LakeFileHash(Base):
    """The SHA-256 of a lake file's content, remembered by path, size and modification time: lake files are
    written once and never changed, so each is hashed once, not on every check."""

    __tablename__ = "governance_lake_file_hashes"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class FileCheck(Base):
    """One lake file's aggregate check rows (per period and provider) under one check signature: the rule
    set's compiled SQL, the check day when a rule reads it, the engine and the content of every dataset the
    counts depend on (a reference's target, the dataset itself for uniqueness). Counts of files add up."""

    __tablename__ = "governance_file_checks"
    __table_args__ = (UniqueConstraint("signature", "file_sha256"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
