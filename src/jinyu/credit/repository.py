"""Every query on card snapshots and views. Snapshots are inserted and read, never updated or deleted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, func, insert, select
from sqlalchemy.orm import Session

from jinyu.core import pipeline
from jinyu.core.clock import as_utc
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
    """Batch snapshots whose sections are already JSON text (`sections_json`, canonical), stored as that text
    (no decode and re-encode). PostgreSQL: one `COPY` per batch; elsewhere one executemany of a Core INSERT
    (the ORM's bulk path cost more than the statement). The stored values are those an INSERT of the same row
    writes (tests/credit/test_bulk_insert.py)."""
    if not rows:
        return
    if pipeline.available(session):
        pipeline.copy_rows(session, CardSnapshot.__tablename__, _COPY_COLUMNS, map(_copy_values, rows))
        return
    # SQLite stores JSON as text anyway (and its CAST AS JSON would be a numeric cast): the JSON columns are
    # bound as the text SQLAlchemy's JSON type would have made (json.dumps' defaults), made once here.
    texts = {name: bindparam(f"{name}_json", type_=Text) for name in ("sections", "salts", "section_hashes")}
    stmt = insert(cast(Table, CardSnapshot.__table__)).values(**texts)
    session.execute(stmt, [row | _json_texts(row) for row in rows])


_COPY_COLUMNS = (
    "id", "enterprise_org_id", "uscc", "version", "card_format", "content_hash", "content_key", "sections",
    "salts", "section_hashes", "created_at", "created_by",
)  # fmt: skip


def _json_texts(row: dict[str, Any]) -> dict[str, str]:
    # The JSON columns as the ORM's INSERT writes them: SQLAlchemy (SQLite) and psycopg's Json (PostgreSQL)
    # both serialise with json.dumps' defaults; the sections are already canonical text.
    return {"salts_json": json.dumps(row["salts"]), "section_hashes_json": json.dumps(row["section_hashes"])}


def _copy_values(row: dict[str, Any]) -> tuple[Any, ...]:
    texts = _json_texts(row)
    return (
        row["id"], row["enterprise_org_id"], row["uscc"], row["version"], row["card_format"],
        row["content_hash"], row["content_key"], row["sections_json"], texts["salts_json"],
        texts["section_hashes_json"], as_utc(row["created_at"]), row["created_by"],
    )  # fmt: skip


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
