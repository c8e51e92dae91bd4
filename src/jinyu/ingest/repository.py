"""Queries on load records; data providers see their own organisation's loads, regulators all."""

from __future__ import annotations

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from jinyu.core.auth import Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import lock_for_update
from jinyu.ingest.models import DatasetLock, Load


def readable(principal: Principal) -> Select[Load]:
    stmt = select(Load)
    return stmt if principal.sees_everything else stmt.where(Load.org_id == principal.org_id)


def find_by_content(session: Session, dataset: str, sha256: str) -> Load | None:
    return session.scalars(select(Load).where(Load.dataset == dataset, Load.file_sha256 == sha256)).first()


def committed(session: Session, dataset: str, lake_load_id: str) -> bool:
    """Is there a load record for these lake files? (Asked about loads whose writer died.)"""
    stmt = select(Load.id).where(Load.dataset == dataset, Load.lake_load_id == lake_load_id).limit(1)
    return session.scalar(stmt) is not None


def get(session: Session, principal: Principal, load_id: str) -> Load | None:
    return session.scalars(readable(principal).where(Load.id == load_id)).first()


def list_(
    session: Session, principal: Principal, dataset: str | None, limit: int, offset: int
) -> tuple[list[Load], int]:
    stmt = readable(principal)
    if dataset:
        stmt = stmt.where(Load.dataset == dataset)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(session.scalars(stmt.order_by(Load.finished_at.desc()).limit(limit).offset(offset))), total


def lock_dataset(session: Session, dataset: str) -> None:
    """Serialise loads of one dataset until the caller's transaction ends (PostgreSQL row lock).

    On SQLite any write takes the whole database's write lock until commit, which would stall every API
    write for the length of a load; the embedded store serves one operator, so loads there are not locked."""
    if not lock_for_update(session.get_bind().dialect.name):
        return
    if session.get(DatasetLock, dataset) is None:
        session.add(DatasetLock(dataset=dataset, locked_at=utcnow()))
        session.flush()
    session.execute(update(DatasetLock).where(DatasetLock.dataset == dataset).values(locked_at=utcnow()))
