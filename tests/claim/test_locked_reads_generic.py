"""The batch's locked reads run on their generic plans, kept by their prepared statements, and leave the
transaction's plan setting as it was (issue 20, h-bu: with PostgreSQL's `auto` the reads by `= ANY($n)` were
planned anew at every run). Break: drop `_GENERIC_PLANS` from `lock_people_and_books` and the custom plans
counted below are no longer zero; drop `_PLANS_AS_BEFORE` and the setting leaks into the rest of the
transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim.repository.pipeline import _AMOUNTS_MANY, _LOCK_ENROLLMENTS, lock_people_and_books

pytestmark = pytest.mark.postgres

_PLANS = text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")


def _lock(session: Session, n: int) -> None:
    locked = lock_people_and_books(
        session, [f"enrollment-{n}"], [("hospital", f"visit-{n}", f"setl-{n}")], (["h"], ["i"], [2026]), 500
    )
    assert locked.enrollments == {} and locked.books == {}  # empty tables: nothing found, nothing wrong


def test_locked_reads_use_generic_plans_and_restore_the_setting(pg_factory: sessionmaker[Session]) -> None:
    runs = 9  # psycopg prepares from the fifth run on one connection; the later runs are on the kept plan
    for n in range(runs):
        with pg_factory() as session:
            _lock(session, n)
            # the same transaction goes on with the server's own plan setting
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"
            session.commit()
    with pg_factory() as session:
        plans = {st: (generic, custom) for st, generic, custom in session.execute(_PLANS).all()}
        session.commit()
    for sql in (_LOCK_ENROLLMENTS, _AMOUNTS_MANY):
        generic, custom = plans[sql]
        assert custom == 0 and generic >= runs - 5  # never planned for its values once prepared
