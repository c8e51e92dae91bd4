"""Tables the joint-modelling domain owns: the platform's record of joint jobs and of the models they made.

The protocol itself runs between the parties' own processes and data dirs (`party.py`); these tables are the
regulator's register of it: a job declared (the regulator's signed spec), accepted by its bank and by the hub
(each party's signed acceptance and key; `accepted` only when both are filed), reported (the bank's signed
report), and the model version it produced. Nothing here holds a feature, label, weight or score: only specs,
digests, keys, metrics and data-snapshot facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class JointJob(Base):
    __tablename__ = "joint_jobs"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)  # the name the parties' dirs use
    model_name: Mapped[str] = mapped_column(String(64), index=True)
    guest_org_id: Mapped[str] = mapped_column(String(32), index=True)  # the bank head office holding labels
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the regulator's signed spec, as the parties hold it
    spec_sha256: Mapped[str] = mapped_column(String(64))
    regulator_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # declared, accepted (by every party), done, failed
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    guest_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the bank party's Ed25519 key
    acceptance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The hub's (host party's) signed acceptance and Ed25519 key, filed by a regulator user (the hub is its node).
    host_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    host_acceptance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    host_accepted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    host_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the last signed report
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JointModel(Base):
    """One registered version of a joint model (append-only): which job made it, on what data, how good.

    Versions are per bank (the bank's party numbers them, `registry.py`): two banks may each hold `sme-risk` v1."""

    __tablename__ = "joint_models"
    __table_args__ = (UniqueConstraint("guest_org_id", "model_name", "version"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str] = mapped_column(ForeignKey("joint_jobs.job_id"), unique=True)
    guest_org_id: Mapped[str] = mapped_column(String(32), index=True)
    data_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # file digest, rows, quarantined
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
