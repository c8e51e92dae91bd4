"""A load as a client makes it: ingest, then commit. A load's lake files are published when its record commits,
so rows read from the lake after `load` are what any other reader sees."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jinyu.ingest import service
from jinyu.ingest.schemas import LoadReport


def load(session: Session, *args: Any, **kwargs: Any) -> LoadReport:
    report = service.ingest(session, *args, **kwargs)
    session.commit()
    return report
