"""Card snapshots (append-only, hashed) and the log of who viewed which card (shown to the enterprise)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class CardSnapshot(Base):
    """One version of an enterprise's card. Written once, never updated (the repository has no update path;
    reads re-check the hash)."""

    __tablename__ = "credit_card_snapshots"
    __table_args__ = (UniqueConstraint("uscc", "version", name="uq_credit_card_snapshots_uscc_version"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    enterprise_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    version: Mapped[int] = mapped_column()
    card_format: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))  # the citable fingerprint (salted section hashes)
    content_key: Mapped[str] = mapped_column(String(64))  # unsalted, server-side: "did the card change?"
    sections: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON)
    salts: Mapped[dict[str, str]] = mapped_column(JSON)
    section_hashes: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class CardView(Base):
    """A card (or snapshot) shown to someone: the enterprise's "who looked at my card"."""

    __tablename__ = "credit_card_views"
    __table_args__ = (Index("ix_credit_card_views_enterprise_at", "enterprise_org_id", "viewed_at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    enterprise_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    viewer_org_id: Mapped[str] = mapped_column(IdColumn)
    viewer_tenant_id: Mapped[str] = mapped_column(IdColumn)
    viewer_subject: Mapped[str] = mapped_column(String(64))
    viewer_kind: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(16))  # own | regulator | grant
    purpose: Mapped[str | None] = mapped_column(String(40))
    sections: Mapped[list[str]] = mapped_column(JSON)
    grant_ids: Mapped[list[str]] = mapped_column(JSON)
    snapshot_version: Mapped[int] = mapped_column()
    rendering: Mapped[str] = mapped_column(String(8))  # json | html | pdf
    viewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
