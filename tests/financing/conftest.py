"""Financing API tests run like the other API tests: committed setup, every request its own transaction."""

from __future__ import annotations

from tests.fixtures.committed import session, session_factory

__all__ = ["session", "session_factory"]
