"""Process-wide handles built from settings: the operational store's engine and session factory.

Boundaries (the app, CLI commands, jobs) open units of work with `transaction()`; nothing below them commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.config import Settings, get_settings
from jinyu.core import db
from jinyu.core.filemodes import secure_data_dir


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return db.make_engine(url)


def sessionmaker_for(settings: Settings | None = None) -> sessionmaker[Session]:
    settings = settings or get_settings()
    secure_data_dir(settings.data_dir, settings.resolved_database_url)
    return db.make_sessionmaker(engine_for(settings.resolved_database_url))


@contextmanager
def unit_of_work(settings: Settings | None = None) -> Iterator[Session]:
    """A CLI command's or job's transaction: commit on success, roll back on error."""
    with db.transaction(sessionmaker_for(settings)) as session:
        yield session
