"""Post-load quality checks: run after a load's transaction has committed (its lake files are published only
then), in a transaction of their own. Idempotent in effect: a second run stores a second, identical run."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Engine, Lake, open_engine
from jinyu.core.auth import SYSTEM
from jinyu.core.db import transaction
from jinyu.governance import service
from jinyu.governance.schemas import CheckRunOut

_log = logging.getLogger(__name__)


def check_after_load(
    factory: sessionmaker[Session],
    lake_dir: Path,
    dataset: str | None,
    load_id: str | None = None,
    engine: Engine | None = None,
) -> list[CheckRunOut]:
    """Check `dataset` (None: every loaded one) as the platform, trigger `load`; returns the runs."""
    own = engine is None
    runner = engine or open_engine("duckdb", lake_dir)
    try:
        with transaction(factory) as session:
            return service.check(
                session, SYSTEM, runner, Lake(lake_dir), dataset, trigger="load", load_id=load_id
            )
    finally:
        if own:
            runner.close()


def check_after_load_logged(
    factory: sessionmaker[Session],
    lake_dir: Path,
    dataset: str | None,
    load_id: str | None = None,
    engine: Engine | None = None,
) -> None:
    """`check_after_load` for a background task: a failure is logged, never raised (the load has committed)."""
    try:
        check_after_load(factory, lake_dir, dataset, load_id, engine)
    except Exception:
        _log.exception("post-load quality check failed", extra={"dataset": dataset, "load_id": load_id})
