"""The settlement's locked reads, one call on every database: the person-year's lock first, then what it guards.

PostgreSQL sends them in one pipeline (`pipeline.lock_and_read`); elsewhere they are separate statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from jinyu.claim.repository import pipeline
from jinyu.claim.repository.enrollment import lock_enrollment
from jinyu.claim.repository.ledger import lock_books_of
from jinyu.claim.repository.pipeline import Locked
from jinyu.claim.repository.settlements import settlement_key
from jinyu.claim.repository.writes import accumulator_amounts


def lock_for_settlement(
    session: Session,
    enrollment_id: str,
    key: Mapping[str, str],
    insurer_ids: Sequence[str],
    year: int,
) -> Locked:
    """Lock the enrollment, read the business key and accumulators under it, lock the hospital's books of
    these insurers for the year (id order: the same order everywhere, so no deadlock)."""
    if pipeline.available(session):
        return pipeline.lock_and_read(session, enrollment_id, key, insurer_ids, year)
    enrollment = lock_enrollment(session, enrollment_id)
    dup = settlement_key(session, key["hospital_id"], key["mdtrt_id"], key["setl_id"], key["channel"])
    return Locked(
        status=enrollment.status,
        pre_existing=list(enrollment.pre_existing or []),
        duplicate=(dup.id, dup.request_hash) if dup is not None else None,
        amounts=accumulator_amounts(session, enrollment_id),
        books=lock_books_of(session, insurer_ids, key["hospital_id"], year),
    )
