"""The audit trail's tables: the entries and the one-row head that serialises sealing and anchors the tail.

An entry is either sealed (seq, prev_hash and hash set: a link of the chain) or journaled (all three NULL:
written by a busy server's request, waiting for the sealer to link it; see `audit.sealer`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.db import PSEUDONYM, Base, IdColumn, UTCDateTime

HEAD_ID = 1


class AuditEntry(Base):
    """One audited action. Append-only: rows are never updated or deleted (verify would name them).

    `subject_ids` and `detail` are JSON *text* on purpose (not JSON/JSONB): the hash covers the stored bytes,
    and a JSON column type could re-spell them (key order, spacing) and break the chain.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("seq"),
        # Mirrors rules.Outcome (a test keeps them equal); models import only core.db.
        CheckConstraint("outcome IN ('ok', 'denied', 'not_found', 'error', 'failed')", name="outcome"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(
            "(seq IS NULL AND prev_hash IS NULL AND hash IS NULL) "
            "OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)",
            name="sealed_or_journaled",
        ),
        # The sealer's queue: journaled entries in the order they are linked.
        Index(
            "ix_audit_entries_journaled",
            "at",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        # Search is newest first within one filter; (filter, seq) indexes answer it without sorting.
        Index("ix_audit_entries_actor_seq", "actor_id", "seq"),
        Index("ix_audit_entries_org_seq", "org_id", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_subject_seq", "subject_type", "seq"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_ids: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"AuditEntry(seq={self.seq}, action={self.action!r}, outcome={self.outcome!r})"


class AuditHead(Base):
    """The chain's tail anchor, one row (id=1).

    Appenders lock it, so seq stays gapless and the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditTokenAlias(Base):
    """An older-version pseudonym named in sealed entries, with its equivalent at the current key version.

    Entries are hash-chained, so a key rotation cannot rewrite the tokens in them; instead it notes each older
    token found there with its successor (`jinyu keys rotate`). `token` is a pseudonym column, so the next
    rotation carries it forward like every other; search by a current token then also finds its earlier ones
    (`audit.aliases`). Tokens derive forward only, so this note is the only way back from a new token."""

    __tablename__ = "audit_token_aliases"

    old_token: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(40), index=True, info=PSEUDONYM)
