"""Every query on card snapshots and views. Snapshots are inserted and read, never updated or deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Text, bindparam, cast, func, insert, select
from sqlalchemy.orm import Session

from jinyu.credit.models import CardSnapshot, CardView


def latest(session: Session, uscc: str) -> CardSnapshot | None:
    stmt = (
        select(CardSnapshot).where(CardSnapshot.uscc == uscc).order_by(CardSnapshot.version.desc()).limit(1)
    )
    return session.scalars(stmt).first()


def by_version(session: Session, uscc: str, version: int) -> CardSnapshot | None:
    stmt = select(CardSnapshot).where(CardSnapshot.uscc == uscc, CardSnapshot.version == version)
    return session.scalars(stmt).first()


def list_snapshots(session: Session, uscc: str, limit: int, offset: int) -> tuple[list[CardSnapshot], int]:
    stmt = select(CardSnapshot).where(CardSnapshot.uscc == uscc)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(CardSnapshot.version.desc()).limit(limit).offset(offset))
    return list(rows), total


def latest_keys(session: Session) -> dict[str, tuple[int, str, str]]:
    """uscc -> (latest version, its content key, its card format), for batch snapshots."""
    top = (
        select(CardSnapshot.uscc, func.max(CardSnapshot.version).label("version"))
        .group_by(CardSnapshot.uscc)
        .subquery()
    )
    stmt = select(
        CardSnapshot.uscc, CardSnapshot.version, CardSnapshot.content_key, CardSnapshot.card_format
    ).join(top, (top.c.uscc == CardSnapshot.uscc) & (top.c.version == CardSnapshot.version))
    return {r.uscc: (r.version, r.content_key, r.card_format) for r in session.execute(stmt)}


def insert_snapshots(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """The one write path of snapshots (single cards and batches alike): plain INSERTs."""
    if rows:
        session.execute(insert(CardSnapshot), list(rows))


def insert_encoded_snapshots(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Batch snapshots whose sections are already JSON text (`sections_json`, canonical): plain INSERTs that
    store the text as it is instead of decoding and encoding it again."""
    if not rows:
        return
    text = bindparam("sections_json", type_=Text)
    # PostgreSQL's json column takes text through a cast; SQLite stores JSON as text anyway (and its CAST AS
    # JSON would be a numeric cast).
    value = cast(text, JSON) if session.get_bind().dialect.name == "postgresql" else text
    session.execute(insert(CardSnapshot).values(sections=value), list(rows))


def add_view(session: Session, view: CardView) -> None:
    session.add(view)
    session.flush()


def list_views(
    session: Session, enterprise_org_id: str, limit: int, offset: int
) -> tuple[list[CardView], int]:
    stmt = select(CardView).where(CardView.enterprise_org_id == enterprise_org_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(CardView.viewed_at.desc(), CardView.id).limit(limit).offset(offset))
    return list(rows), total
