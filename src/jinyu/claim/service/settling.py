"""A settlement once its person-year's lock is held: adjudicate on the totals read under it, fund the payout
from the hospital's books, record the rows. Shared by single settlements (`settlement`) and batches (`batch`).

`record_settlement` writes everything except the ledger journals; `booking.book_hold_or_settle` then moves the
books. A batch records its settlements before it locks the books (the books are what concurrent batches
share) and funds them after, from the locked balances.
"""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.models import ClaimEnrollment, ClaimLedgerBook, ClaimProduct, ClaimSettlement
from jinyu.claim.rules.adjudicate import Adjudication, Bill, adjudicate, invariant_holds, is_pre_existing
from jinyu.claim.schemas import Outcome
from jinyu.claim.service import booking
from jinyu.claim.service.answers import outcome, outcome_document
from jinyu.claim.service.common import LoadedProduct, usage_of
from jinyu.claim.service.intake import Claim, inactive, new_row, remember
from jinyu.core.auth import Principal
from jinyu.core.pipeline import batched_writes

Covered = tuple[ClaimEnrollment, ClaimProduct, LoadedProduct]


class OverBudget(Exception):
    """The hospital's time budget ran out: the claim is deferred."""

    pass


def settle_locked(
    session: Session,
    principal: Principal,
    claim: Claim,
    bill: Bill,
    covered: Covered,
    locked: repo.Locked,
    *,
    confirm: bool,
    deadline: float | None,
) -> tuple[ClaimSettlement, Outcome]:
    """Adjudicate against what was read under the locks and queue the rows (with the audit entry) into the
    open write batch, or write them. Raises NotEnrolled (inactive), booking.Deferral or OverBudget before writing
    anything; with a deadline, also OverBudget after writing (the caller rolls back to its savepoint)."""
    result = adjudicate_locked(bill, covered[2], locked.status, locked.pre_existing, locked.amounts)
    return settle_adjudicated(
        session,
        principal,
        claim,
        bill,
        covered,
        (result, locked.amounts, locked.books),
        confirm=confirm,
        deadline=deadline,
    )


def adjudicate_locked(
    bill: Bill,
    loaded: LoadedProduct,
    status: str,
    pre_existing: list[str],
    amounts: dict[tuple[str, str], Decimal],
) -> Adjudication:
    """The product's answer for this bill on the person's totals as read under the enrollment's lock."""
    if status != "active":
        raise inactive(status)
    rules = loaded.rules
    year = rules.policy_year_of(bill.day) if bill.day else rules.year
    result = adjudicate(
        rules,
        bill,
        usage_of(amounts, rules.counter_suffix(year)),
        pre_existing=is_pre_existing(pre_existing, bill.diagnoses),
    )
    if not invariant_holds(bill, result):  # cannot happen: adjudicate keeps it; refuse rather than pay wrong
        raise RuntimeError("settlement invariant broken / 结算恒等式不成立")
    return result


def settle_adjudicated(
    session: Session,
    principal: Principal,
    claim: Claim,
    bill: Bill,
    covered: Covered,
    adjudicated: tuple[Adjudication, dict[tuple[str, str], Decimal], dict[str, ClaimLedgerBook]],
    *,
    confirm: bool,
    deadline: float | None,
) -> tuple[ClaimSettlement, Outcome]:
    """Fund the payout from the (locked) books and write the settlement's rows; see `settle_locked`."""
    loaded = covered[2]
    result, amounts, books = adjudicated
    p = booking.plan(loaded, result, booking.direct_books(loaded, books))
    if deadline is not None and time.monotonic() > deadline:
        raise OverBudget
    with batched_writes(session):  # PostgreSQL: every row below in one round trip
        row, answer = record_settlement(
            session, principal, claim, bill, covered, (result, amounts, p), confirm
        )
        booking.book_hold_or_settle(session, row, p, confirm=confirm, actor=principal.subject_id)
        if deadline is not None:
            repo.set_lock_timeout(session, None)  # the budget was for this settlement's locks only
    if deadline is not None and time.monotonic() > deadline:
        raise OverBudget
    return row, answer


def record_settlement(
    session: Session,
    principal: Principal,
    claim: Claim,
    bill: Bill,
    covered: Covered,
    funded: tuple[Adjudication, dict[tuple[str, str], Decimal], booking.Plan],
    confirm: bool,
) -> tuple[ClaimSettlement, Outcome]:
    """Write (or queue) a funded settlement: its row, accumulators, payout entries, message id and audit entry
    — everything but the ledger journals. The row stays out of the session."""
    enrollment, product_row, loaded = covered
    result, amounts, p = funded
    answer = outcome(loaded, result, p)
    row = new_row(
        claim,
        bill,
        enrollment,
        product_row,
        status="settled" if confirm else "pending",
        interim=loaded.rules.interim_settlements,
        payout=result.payout,
        cash_after=result.cash_after,
        policy_year=result.policy_year,
        result=outcome_document(answer),
        funding=p.as_json(),
    )
    if confirm:
        row.__dict__["confirmed_at"] = row.created_at  # as `new_row`'s values: the row is in no session
    repo.add_settlement(session, row)  # first: the entries below refer to it
    suffix = loaded.rules.counter_suffix(result.policy_year)
    booking.consume(session, enrollment.id, row.id, result.consumed, amounts, suffix)
    if confirm:
        booking.payout_entries(session, row, sign=1, split=p.split)
    remember(session, claim, "settle", row.id)
    audit_settle(session, principal, row)  # journaled entries join the pipeline; undone with a savepoint
    return row, answer


def audit_settle(session: Session, principal: Principal, row: ClaimSettlement) -> None:
    audit.record(
        session,
        principal,
        action="claim.settlement.settle",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token, "status": row.status, "payout": str(row.payout)},
    )
