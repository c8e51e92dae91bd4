"""Consent grants: an enterprise authorizes a bank (its whole tenant) to see named data for a purpose."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class Grant(Base):
    __tablename__ = "consent_grants"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    enterprise_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    grantee_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
