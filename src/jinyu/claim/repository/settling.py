"""The settlement's reads, the same calls on every database: first what comes before the lock, then the
person-year's lock and what it guards.

PostgreSQL sends each group in one pipeline (`pipeline`); elsewhere they are separate statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from jinyu.claim.models import ClaimEnrollment, ClaimProduct
from jinyu.claim.repository import pipeline
from jinyu.claim.repository.enrollment import coverage_on, lock_enrollment
from jinyu.claim.repository.ledger import lock_books_of
from jinyu.claim.repository.pipeline import Locked
from jinyu.claim.repository.settlements import Ref, active_in_visit, message, settlement_key
from jinyu.claim.repository.writes import accumulator_amounts
from jinyu.core.pipeline import available


def lock_for_settlement(
    session: Session,
    enrollment_id: str,
    key: Mapping[str, str],
    insurer_ids: Sequence[str],
    year: int,
) -> Locked:
    """Lock the enrollment, read the business key, the visit's settlement in force and the accumulators under
    it, lock the hospital's books of
    these insurers for the year (id order: the same order everywhere, so no deadlock)."""
    if available(session):
        return pipeline.lock_and_read(session, enrollment_id, key, insurer_ids, year)
    enrollment = lock_enrollment(session, enrollment_id)
    dup = settlement_key(session, key["hospital_id"], key["mdtrt_id"], key["setl_id"], key["channel"])
    active = active_in_visit(session, key["hospital_id"], key["mdtrt_id"])
    return Locked(
        status=enrollment.status,
        pre_existing=list(enrollment.pre_existing or []),
        duplicate=(dup.id, dup.request_hash) if dup is not None else None,
        active=(active.id, active.setl_id, active.status, active.channel) if active is not None else None,
        amounts=accumulator_amounts(session, enrollment_id),
        books=lock_books_of(session, insurer_ids, key["hospital_id"], year),
    )


def message_and_coverage(
    session: Session, namespace: str, msg_id: str, token: str, day: dt.date, product_code: str | None
) -> tuple[Ref | None, list[tuple[ClaimEnrollment, ClaimProduct]]]:
    """A settlement's first reads: the message id's earlier use, and the person's coverage on `day`.

    PostgreSQL: one round trip, rows not in the session and products without their definition (load it with
    `get_product_unscoped` when needed)."""
    if available(session):
        used, found = pipeline.message_and_coverage(session, namespace, msg_id, token, day, product_code)
        return (Ref(*used) if used is not None else None), found
    return message(session, namespace, msg_id), coverage_on(session, token, day, product_code)
