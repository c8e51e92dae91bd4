"""Load records: one row per (dataset, file content) — the basis of idempotent ingestion."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class Load(Base):
    __tablename__ = "ingest_loads"
    __table_args__ = (UniqueConstraint("dataset", "file_sha256"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    lake_load_id: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    loaded_by: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    rejected_by_reason: Mapped[dict[str, int]] = mapped_column(JSON)
    quarantine_file: Mapped[str | None] = mapped_column(String(500))
    lake_files: Mapped[list[str]] = mapped_column(JSON)
    parties: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetLock(Base):
    """One row per dataset; a load updates it first, so loads of one dataset run one at a time (the row lock
    on PostgreSQL, the database write lock on SQLite) and never race on the lake's files."""

    __tablename__ = "ingest_dataset_locks"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
