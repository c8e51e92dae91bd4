"""The inquiry ledger: every risk inquiry a bank makes, counted for the regulator (append-only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import PSEUDONYM, Base, IdColumn, Money, UTCDateTime, new_id


class RiskInquiry(Base):
    __tablename__ = "risk_inquiries"
    __table_args__ = (Index("ix_risk_inquiries_tenant_month", "tenant_id", "month"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))  # statement | return_flow | misuse | batch
    tenant_id: Mapped[str] = mapped_column(IdColumn)  # the bank (head office) that asked
    org_id: Mapped[str] = mapped_column(IdColumn)  # the branch or head office of the asking user
    actor_id: Mapped[str] = mapped_column(String(64))
    # Loan id, statement account token, batch id: a pseudonym column, so a key rotation carries the account
    # tokens forward (other values are no tokens and stay) and the history reads in the current version.
    subject: Mapped[str] = mapped_column(String(128), info=PSEUDONYM)
    month: Mapped[str] = mapped_column(String(7))  # Asia/Shanghai month of the inquiry, for the indicators
    verdict: Mapped[str] = mapped_column(String(32))  # e.g. clean | risky | fabricated | error
    risky: Mapped[bool] = mapped_column(default=False)
    risky_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PurposeMatrixVersion(Base):
    """One version of the purpose × use matrix (append-only: a change is a new version, the highest is in force)."""

    __tablename__ = "risk_purpose_matrices"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[list[dict[str, object]]] = mapped_column(JSON)  # [{purpose, kind, prohibited}]
    note: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoredBatch(Base):
    """A batch check's whole result, kept for the bank that ran it (listed and downloaded later). Rows and summary
    as the result's JSON (`BatchResult`); readable only within the asking bank, by the asking org and the orgs
    above it (`org_path` prefix), never by another bank."""

    __tablename__ = "risk_stored_batches"
    __table_args__ = (Index("ix_risk_stored_batches_tenant_at", "tenant_id", "at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)  # the batch id of the result
    tenant_id: Mapped[str] = mapped_column(IdColumn)
    org_id: Mapped[str] = mapped_column(IdColumn)
    org_path: Mapped[str] = mapped_column(String(512))
    actor_id: Mapped[str] = mapped_column(String(64))
    inquiry_id: Mapped[str] = mapped_column(IdColumn)
    bank_code: Mapped[str] = mapped_column(String(64))
    from_date: Mapped[dt.date] = mapped_column(Date)
    to_date: Mapped[dt.date] = mapped_column(Date)
    loans: Mapped[int] = mapped_column(Integer)
    risky_loans: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, object]] = mapped_column(JSON)  # BatchResult.model_dump(mode="json")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
