"""Console tests run the app as it runs in production: every request on its own connection and transaction.
Setup data is committed; afterwards every table is emptied."""

from __future__ import annotations

from tests.fixtures.committed import session, session_factory

__all__ = ["session", "session_factory"]
