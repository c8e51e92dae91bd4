"""Financing API tests run like the other API tests: committed setup, every request its own transaction;
concurrency tests use the claim suite's PostgreSQL sessions that really commit."""

from __future__ import annotations

from tests.claim.conftest import pg_factory
from tests.fixtures.committed import session, session_factory

__all__ = ["pg_factory", "session", "session_factory"]
