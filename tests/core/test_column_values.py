"""`core.db.column_values`: an object's columns as a Core INSERT needs them, the same as reading each attribute."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.claim.models import ClaimAccumulator
from jinyu.core.db import Base, column_values, detached


def test_a_detached_object_gives_what_it_was_given_and_none_for_the_rest() -> None:
    entry = detached(AuditEntry, id="e1", action="claim.settlement.settle", seq=None, detail='{"a":1}')
    values = column_values(entry)
    assert list(values) == [c.key for c in AuditEntry.__table__.columns]  # every column, in table order
    assert values["id"] == "e1" and values["action"] == "claim.settlement.settle"
    assert values["detail"] == '{"a":1}'
    assert values["seq"] is None and values["hash"] is None and values["at"] is None  # never set
    assert values == {c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns}


def test_an_object_built_by_its_constructor() -> None:
    row = ClaimAccumulator(enrollment_id="en-1", kind="deductible", code="*", amount=Decimal("12.50"))
    assert column_values(row) == {
        "enrollment_id": "en-1",
        "kind": "deductible",
        "code": "*",
        "amount": Decimal("12.50"),
    }


def test_an_expired_attribute_is_read_from_the_database() -> None:
    """Not in `__dict__` after an expiry: the attribute is asked, which loads the stored value."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[ClaimAccumulator.__table__])
    with Session(engine) as session:
        session.add(ClaimAccumulator(enrollment_id="en-1", kind="paid", code="L1", amount=Decimal("7.00")))
        session.commit()
        row = session.get(ClaimAccumulator, ("en-1", "paid", "L1"))
        assert row is not None
        session.expire(row, ["amount"])
        assert "amount" not in row.__dict__
        assert column_values(row)["amount"] == Decimal("7.00")
