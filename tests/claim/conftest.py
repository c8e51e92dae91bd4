"""Claim test fixtures: committed data on PostgreSQL for concurrency and crash tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from jinyu.core import db
from jinyu.models import metadata
from tests.fixtures.pgfaults import Killer


@pytest.fixture
def pg_factory(postgres_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, on their own engine (own pool) over the test run's PostgreSQL database;
    every table is emptied afterwards."""
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    factory = db.make_sessionmaker(engine)
    try:
        yield factory
    finally:
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
        engine.dispose()


@pytest.fixture
def killer(pg_factory: sessionmaker[Session]) -> Iterator[Killer]:
    """Terminates the database's other connections (see tests.fixtures.pgfaults)."""
    k = Killer(pg_factory.kw["bind"].url.render_as_string(hide_password=False))
    yield k
    k.close()
    pg_factory.kw["bind"].dispose()  # its pooled connections were terminated with the others


@pytest.fixture
def service_engine(pg_factory: sessionmaker[Session]) -> Iterator[Engine]:
    """The service's own engine and pool, as a server process has, over the test's database."""
    engine = db.make_engine(pg_factory.kw["bind"].url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()
