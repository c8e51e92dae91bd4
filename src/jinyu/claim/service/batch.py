"""Instant settlement of several discharges in one transaction (PostgreSQL): the common case, in bulk.

Why: on the platform's 2-core machines a settlement's CPU went mostly to talking to the database, a cost per
statement and per round trip rather than per row (docs/claims.md). Discharges arriving together are settled
together in three round trips: their first reads; all their locks and what is read under them; all their rows
with the commit — the rules, rows and audit entries of each are exactly those of `settlement.settle`.

Only the common case is done here: a new bill of an enrolled person, nothing unusual. A discharge is handed
back (None) to be settled on its own, by `settlement.settle` in a transaction of its own after this one,
whenever anything needs that path's handling: its message id or business key was used before, its coverage
is not exactly one enrollment, its enrollment is not active, its visit has a settlement in force, the prepaid
fallback defers it, its time budget has run out, or another discharge of the same batch has the same person,
message id or business key. A
database error rolls the whole batch back (the caller) and every discharge goes on its own.

Locks: the batch takes all its enrollments, then all its books — each in id order, the order single
settlements take them in — in one round trip, and holds them until its commit, which goes with its rows: the
books (what concurrent batches of a hospital share) are held for the batch's adjudication and one round trip.
Settlements of one book are funded one after the other from the locked balances. With time budgets, the lock
timeout is the smallest budget left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from jinyu.claim.models import ClaimEnrollment, ClaimLedgerBook, ClaimProduct
from jinyu.claim.repository.pipeline import BooksOf, PeopleLocked, first_reads_many, lock_people_and_books
from jinyu.claim.rules.adjudicate import Bill, bill_problems
from jinyu.claim.schemas import SettleIn
from jinyu.claim.service import booking
from jinyu.claim.service.answers import fresh_settlement_out
from jinyu.claim.service.common import LoadedProduct, business_date, load_product
from jinyu.claim.service.intake import Claim, bill_invalid, bill_of, setl_time_of
from jinyu.claim.service.settlement import Settled, direct_claim
from jinyu.claim.service.settling import adjudicate_locked, record_settlement
from jinyu.core.auth import Principal
from jinyu.core.errors import JinyuError
from jinyu.core.pipeline import batched_writes
from jinyu.core.privacy import Keys

Result = Settled | BaseException | None  # None: settle it on its own


@dataclass
class Job:
    """One discharge waiting to be settled: who sent it, what, and when it arrived (time.monotonic())."""

    principal: Principal
    data: SettleIn
    key: Keys
    started: float


@dataclass
class _Case:
    index: int
    job: Job
    claim: Claim
    bill: Bill = field(init=False)
    enrollment: ClaimEnrollment = field(init=False)
    product: ClaimProduct = field(init=False)
    loaded: LoadedProduct = field(init=False)


def settle_batch(session: Session, jobs: list[Job]) -> list[Result]:
    """Settle what can be settled together; per job a Settled, the error to answer, or None (on its own).

    Writes into the session's transaction and sends its COMMIT with the rows: the caller's `session.commit()`
    follows at once. When it raises (a database error) nothing of the batch may be kept."""
    results: list[Result] = [None] * len(jobs)
    cases = _covered(session, _claims(jobs, results), results)
    if not cases:
        return results
    locked = lock_people_and_books(
        session,
        [c.enrollment.id for c in cases],
        [(c.claim.hospital_id, c.claim.mdtrt_id, c.claim.setl_id) for c in cases],
        _books_of(cases),
        _budget_ms(cases),
    )
    with batched_writes(session, then_commit=True):  # every row below, and the commit, in one round trip
        for case in cases:
            results[case.index] = _settle(session, case, locked)
    return results


def _claims(jobs: list[Job], results: list[Result]) -> list[_Case]:
    cases = []
    for i, job in enumerate(jobs):
        try:
            cases.append(_Case(i, job, direct_claim(job.principal, job.data, job.key)))
        except JinyuError as exc:  # refused before the database, exactly as on its own
            results[i] = exc
    return _unique(cases)


def _unique(cases: list[_Case]) -> list[_Case]:
    """The first of each message id and business key; the others go on their own (after this one commits)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for case in cases:
        c = case.claim
        marks = {("msg", c.namespace, c.msg_id), ("key", c.hospital_id, c.mdtrt_id, c.setl_id)}
        if marks & seen:
            continue
        seen |= marks
        kept.append(case)
    return kept


def _covered(session: Session, cases: list[_Case], results: list[Result]) -> list[_Case]:
    """Message ids unused, bills valid and each covered by exactly one enrollment (one round trip)."""
    days = [business_date(setl_time_of(c.claim.doc)) for c in cases]
    items = [
        (c.claim.namespace, c.claim.msg_id, c.claim.who.token, d, c.claim.product_code)
        for c, d in zip(cases, days, strict=True)
    ]
    kept: list[_Case] = []
    people: set[str] = set()
    for case, (used, covering) in zip(cases, first_reads_many(session, items), strict=True):
        if used is not None or len(covering) != 1:
            continue  # a replay, a conflict or no (single) coverage: on its own
        case.bill = bill_of(case.claim.doc, case.claim.hospital_id, case.claim.pharmacy)
        problems = bill_problems(case.bill)
        if problems:
            results[case.index] = bill_invalid(problems)
            continue
        case.enrollment, case.product = covering[0]
        if case.enrollment.id in people:
            continue  # the same person twice: the second one after this batch, on the first one's totals
        people.add(case.enrollment.id)
        case.loaded = load_product(session, case.product)
        kept.append(case)
    return kept


def _budget_ms(cases: list[_Case]) -> int | None:
    budgets = [_left_ms(c.job) for c in cases if c.job.data.time_budget_ms]
    return min(budgets) if budgets else None


def _left_ms(job: Job) -> int:
    budget = job.data.time_budget_ms or 0
    return max(1, int(budget - (time.monotonic() - job.started) * 1000))


def _books_of(cases: list[_Case]) -> BooksOf:
    return (
        [c.claim.hospital_id for c in cases],
        sorted({i for c in cases for i in c.loaded.insurer_ids.values()}),
        [c.loaded.rules.year for c in cases],
    )


def _own_books(case: _Case, books: dict[tuple[str, str, int], ClaimLedgerBook]) -> dict[str, ClaimLedgerBook]:
    year = case.loaded.rules.year
    return {
        insurer: book
        for insurer in case.loaded.insurer_ids.values()
        if (book := books.get((insurer, case.claim.hospital_id, year))) is not None
    }


def _settle(session: Session, case: _Case, locked: PeopleLocked) -> Settled | None:
    """Adjudicate under the enrollment's lock, fund from the locked books (as moved by the settlements before
    it in this batch) and queue the rows; None: on its own."""
    c, job = case.claim, case.job
    if (c.hospital_id, c.mdtrt_id, c.setl_id) in locked.duplicates:
        return None  # settled before under this business key: a replay or a conflict, on its own
    if (c.hospital_id, c.mdtrt_id) in locked.active_visits:
        return None  # the visit has a settlement in force: on its own (409, or an interim settlement)
    if job.data.time_budget_ms and time.monotonic() > job.started + job.data.time_budget_ms / 1000:
        return None  # out of time: on its own, it is deferred
    status, pre_existing = locked.enrollments[case.enrollment.id]
    if status != "active":
        return None
    amounts = locked.amounts[case.enrollment.id]
    result = adjudicate_locked(case.bill, case.loaded, status, pre_existing, amounts)
    try:
        plan = booking.plan(
            case.loaded, result, booking.direct_books(case.loaded, _own_books(case, locked.books))
        )
    except (booking.Deferral, JinyuError):
        return None  # deferred or refused: on its own, with that path's answer and alerts
    covered = (case.enrollment, case.product, case.loaded)
    confirm = job.data.auto_confirm
    row, answer = record_settlement(
        session, job.principal, c, case.bill, covered, (result, amounts, plan), confirm
    )
    booking.book_hold_or_settle(session, row, plan, confirm=confirm, actor=job.principal.subject_id)
    return Settled(fresh_settlement_out(row, answer), False)
