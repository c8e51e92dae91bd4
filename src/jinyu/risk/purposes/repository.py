"""Every SQL statement on the purpose matrix versions (public to every reader: it is regulation, not data
of any tenant)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jinyu.risk.models import PurposeMatrixVersion


def latest(session: Session) -> PurposeMatrixVersion | None:
    return session.scalars(
        select(PurposeMatrixVersion).order_by(PurposeMatrixVersion.version.desc()).limit(1)
    ).first()


def get(session: Session, version: int) -> PurposeMatrixVersion | None:
    return session.get(PurposeMatrixVersion, version)


def latest_version(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(PurposeMatrixVersion.version), 0))) or 0)


def add(session: Session, row: PurposeMatrixVersion) -> None:
    session.add(row)
    session.flush()
