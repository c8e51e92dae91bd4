"""`claim.repository.writes.store_accumulators`: the new totals written, and a loaded accumulator kept true."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from jinyu.claim.models import ClaimAccumulator
from jinyu.claim.repository.writes import store_accumulators
from jinyu.core.db import Base


def test_stored_totals_show_on_a_loaded_accumulator_and_need_none_loaded() -> None:
    """`store_accumulators` keeps a loaded accumulator object true (its new amount, not flushed again), and with
    nothing loaded in the session it only writes."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[ClaimAccumulator.__table__])
    with Session(engine) as session:
        session.add(ClaimAccumulator(enrollment_id="en-1", kind="paid", code="L1", amount=Decimal("7.00")))
        session.commit()
    with Session(engine) as session:  # nothing loaded
        assert not session.identity_map
        store_accumulators(
            session, "en-1", {("paid", "L1"): Decimal("9.00"), ("overall", "*"): Decimal("9.00")}
        )
        session.commit()
    with Session(engine) as session:
        loaded = session.get(ClaimAccumulator, ("en-1", "paid", "L1"))
        assert loaded is not None and loaded.amount == Decimal("9.00")
        store_accumulators(session, "en-1", {("paid", "L1"): Decimal("11.50")})
        assert loaded.amount == Decimal("11.50") and not session.dirty
        session.commit()
        stored = session.execute(select(ClaimAccumulator.code, ClaimAccumulator.amount)).all()
        assert sorted(stored) == [("*", Decimal("9.00")), ("L1", Decimal("11.50"))]
