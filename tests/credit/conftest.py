"""Credit API tests run the app as in production (committed setup data) over the tiny region's lake."""

from __future__ import annotations

from tests.fixtures.committed import session, session_factory

__all__ = ["session", "session_factory"]
