"""Alembic migrations build exactly the schema the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from jinyu.config import load_settings
from jinyu.core.db import make_engine
from jinyu.migrate import upgrade
from jinyu.models import metadata
from tests.fixtures.database import _create_pg_database, _drop_pg_database


def _assert_matches_models(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings)
    upgrade(settings)  # idempotent
    _assert_matches_models(settings.resolved_database_url)


@pytest.mark.postgres
def test_postgres_migrations_match_models(tmp_path: Path, postgres_server: str | None) -> None:
    if postgres_server is None:
        pytest.skip("PostgreSQL unavailable / 无 PostgreSQL")
    name, url = _create_pg_database(postgres_server)
    try:
        upgrade(load_settings(data_dir=tmp_path, database_url=url))
        _assert_matches_models(url)
    finally:
        _drop_pg_database(postgres_server, name)
