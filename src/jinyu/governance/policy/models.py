"""Level approvals: a regulator supervisor's time-boxed approval, recorded on a consent grant, that opens data of
a class at level 4-5 to the grant's bank."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class LevelApproval(Base):
    __tablename__ = "policy_level_approvals"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    grant_id: Mapped[str] = mapped_column(ForeignKey("consent_grants.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    policy_version: Mapped[str] = mapped_column(String(32))
    approved_by: Mapped[str] = mapped_column(String(64))
    approver_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Revoked early by a supervisor: no longer in force from revoked_at on (the row stays, for the record).
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), nullable=True, default=None)
