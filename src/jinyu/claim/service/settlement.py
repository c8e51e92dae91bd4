"""Instant settlement at discharge (一站式即时结算), its confirmation, cancellation and replays.

The hospital's system calls `settle` with the national settlement record; the answer says what this product
pays per liability, why anything is not paid, the patient's remaining cash share and the accumulators after.

- Idempotent by message id and by business key (hospital, mdtrt_id, setl_id): a replay answers the stored
  result; a re-use for a different request is refused (409).
- The person's enrollment row is the mutex of the person-year (`SELECT ... FOR UPDATE` on PostgreSQL), so
  two discharges of one person never use the deductible or a cap twice; the duplicate check runs again
  under the lock.
- By default the outcome is *pending*: accumulators and prepaid money are held, nothing is paid until the
  hospital confirms (or the daily reconciliation does). `auto_confirm` settles in one step.
- If the answer cannot be given within the hospital's time budget, or the prepaid fallback says so, the
  claim is *deferred*: nothing is held, the hospital settles basic insurance alone and the claim goes to the
  post-discharge path. That is a state, not an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import SettlementNotFound, SettlementStateConflict
from jinyu.claim.models import ClaimEnrollment, ClaimProduct, ClaimSettlement
from jinyu.claim.rules.adjudicate import (
    Bill,
    bill_problems,
)
from jinyu.claim.schemas import CancelIn, Outcome, ReasonOut, SettleIn, SettlementOut
from jinyu.claim.service import booking, ledger
from jinyu.claim.service.answers import fresh_settlement_out
from jinyu.claim.service.common import (
    LoadedProduct,
    Person,
    business_date,
    load_product,
    request_hash,
    require_settling_org,
    settlement_out,
)
from jinyu.claim.service.intake import (
    Claim,
    bill_invalid,
    bill_of,
    check_visit,
    claim_of,
    earlier,
    existing,
    key_conflict,
    message_conflict,
    new_row,
    only_coverage,
    original_answer,
    remember,
    setl_time_of,
    visit_taken,
)
from jinyu.claim.service.settling import OverBudget, audit_settle, settle_locked
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.errors import FieldError
from jinyu.core.pipeline import savepoint
from jinyu.core.privacy import Keys


@dataclass(frozen=True)
class Settled:
    settlement: SettlementOut
    replayed: bool


class _Replay(Exception):
    def __init__(self, settlement: ClaimSettlement) -> None:
        super().__init__(settlement.id)
        self.settlement = settlement


def _replayed(
    session: Session, principal: Principal, row: ClaimSettlement, *, first_answer: bool = True
) -> Settled:
    """A replay's answer: a settlement message's first answer (with what changed since), or the state now."""
    audit.record(
        session,
        principal,
        action="claim.settlement.replay",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token, "status": row.status},
    )
    return Settled(original_answer(row) if first_answer else settlement_out(row), True)


# ------------------------------------------------------------------------------------------------ settle


def settle(
    session: Session, principal: Principal, data: SettleIn, key: Keys, *, started: float | None = None
) -> Settled:
    """Adjudicate one discharge for the calling hospital (see the module doc for the guarantees).

    `started` (time.monotonic()) is when the request arrived, if earlier than now: the time budget counts
    from then."""
    started = time.monotonic() if started is None else started
    claim = direct_claim(principal, data, key)
    day = business_date(setl_time_of(claim.doc))
    used, covering = repo.message_and_coverage(
        session, claim.namespace, claim.msg_id, claim.who.token, day, claim.product_code
    )
    if used is not None:  # the business key is checked under the lock
        found = earlier(session, claim, "settle", used)
        if found is not None:
            return _replayed(session, principal, found)
    bill = bill_of(claim.doc, claim.hospital_id, claim.pharmacy)
    problems = bill_problems(bill)
    if problems:
        raise bill_invalid(problems)
    enrollment, product_row = only_coverage(session, claim, day, covering)
    loaded = load_product(session, product_row)
    budget = data.time_budget_ms
    row: ClaimSettlement
    answer: Outcome | None = None
    try:
        with savepoint(session):  # an error inside also undoes the lock timeout set inside
            if budget:
                repo.set_lock_timeout(session, budget)
            row, answer = _settle_locked(
                session,
                principal,
                claim,
                bill,
                enrollment,
                product_row,
                loaded,
                confirm=data.auto_confirm,
                deadline=started + budget / 1000 if budget else None,
            )
    except _Replay as replay:
        _remember_replay(session, claim, replay.settlement.id)
        return _replayed(session, principal, replay.settlement)
    except booking.Deferral as why:
        row = _defer(session, claim, bill, enrollment, product_row, why.code, why.message)
        for book_id in why.book_ids:
            book = repo.lock_book(session, book_id)
            ledger.raise_alert(session, book, "overdraw_fallback", why.message)
    except OverBudget:
        row = _defer(session, claim, bill, enrollment, product_row, "time_budget", _BUDGET_NOTE)
    except OperationalError as exc:
        if not repo.is_lock_timeout(exc):
            raise
        row = _defer(session, claim, bill, enrollment, product_row, "time_budget", _BUDGET_NOTE)
    except IntegrityError:
        # A concurrent request with the same message id or business key won the race: answer as a replay.
        # Or one of another person-year settled the same visit first (the database's guard): 409.
        found = existing(session, claim, "settle")
        if found is None:
            active = repo.active_in_visit(session, claim.hospital_id, claim.mdtrt_id)
            if active is None:
                raise
            raise visit_taken(claim, active) from None
        return _replayed(session, principal, found)
    if answer is None:  # deferred: a settled or pending outcome was audited with its rows
        audit_settle(session, principal, row)
    return Settled(settlement_out(row) if answer is None else fresh_settlement_out(row, answer), False)


def direct_claim(principal: Principal, data: SettleIn, key: Keys) -> Claim:
    """The calling hospital's bill in canonical form (permission and organisation checked first)."""
    principal.require(Perm.CLAIM_SETTLE)
    require_settling_org(principal)
    return claim_of(
        data,
        namespace=principal.org_id,
        hospital_id=principal.org_id,
        channel="direct",
        msg_id=data.msg_id,
        key=key,
        pharmacy=principal.org_kind == OrgKind.PHARMACY,
    )


def _remember_replay(session: Session, claim: Claim, settlement_id: str) -> None:
    """Let this (new) message id answer the same from now on; a concurrent twin may have done it first."""
    if repo.message(session, claim.namespace, claim.msg_id) is not None:
        return
    try:
        with session.begin_nested():
            remember(session, claim, "settle", settlement_id)
    except IntegrityError:
        existing(session, claim, "settle", by_key=False)  # same request: fine; another one: 409


_BUDGET_NOTE = (
    "未能在医院时限内完成理算，转出院后理赔 / could not answer within the hospital's time budget: "
    "settle basic insurance alone; the claim goes to the post-discharge path"
)


def _settle_locked(
    session: Session,
    principal: Principal,
    claim: Claim,
    bill: Bill,
    enrollment: ClaimEnrollment,
    product_row: ClaimProduct,
    loaded: LoadedProduct,
    *,
    confirm: bool,
    deadline: float | None,
) -> tuple[ClaimSettlement, Outcome]:
    """The settlement (not in the session: written with Core statements) and the outcome it answers.

    `enrollment` was read before the lock: only its id and policy year are used; its status and pre-existing
    conditions are read again under the lock."""
    key = {
        "hospital_id": claim.hospital_id,
        "mdtrt_id": claim.mdtrt_id,
        "setl_id": claim.setl_id,
        "channel": claim.channel,
    }
    insurers = sorted(loaded.insurer_ids.values())
    locked = repo.lock_for_settlement(session, enrollment.id, key, insurers, loaded.rules.year)
    if locked.duplicate is not None:
        dup_id, dup_hash = locked.duplicate
        if dup_hash != claim.hash:
            raise key_conflict(claim)
        found = repo.get_settlement_unscoped(session, dup_id)
        assert found is not None
        raise _Replay(found)
    # One settlement in force per visit: a re-settlement waits for the cancellation (judged on the totals it
    # gave back, read above under the same lock).
    check_visit(
        claim, repo.Active(*locked.active) if locked.active else None, loaded.rules.interim_settlements
    )
    return settle_locked(
        session,
        principal,
        claim,
        bill,
        (enrollment, product_row, loaded),
        locked,
        confirm=confirm,
        deadline=deadline,
    )


def _defer(
    session: Session,
    claim: Claim,
    bill: Bill,
    enrollment: ClaimEnrollment,
    product: ClaimProduct,
    code: str,
    message: str,
) -> ClaimSettlement:
    row = new_row(claim, bill, enrollment, product, status="deferred")
    row.note = message[:500]
    row.result = Outcome(
        payout=row.payout,
        cash_before=row.cash_before,
        cash_after=row.cash_after,
        liabilities=[],
        not_paid=[ReasonOut(code=code, message=message, amount=row.cash_before)],
        accumulators=None,
        insurers=[],
        pre_existing=False,
    ).model_dump(mode="json")
    repo.add_settlement(session, row)
    remember(session, claim, "settle", row.id)
    return row


# ------------------------------------------------------------------------------------------------ lifecycle


def not_found(settlement_id: str) -> SettlementNotFound:
    message = "无此结算（或不属于本机构）/ no such settlement of this organisation"
    return SettlementNotFound(detail=settlement_id, fields=[FieldError("settlement_id", message)])


def _state_conflict(status: str, to: str) -> SettlementStateConflict:
    message = f"结算状态为 {status}，不能转为 {to} / the settlement is {status}: it cannot become {to}"
    return SettlementStateConflict(detail=f"{status} → {to}", fields=[FieldError("settlement_id", message)])


def _locked(session: Session, principal: Principal, settlement_id: str) -> ClaimSettlement:
    """The caller's settlement, re-read under its person-year lock."""
    row = repo.get_settlement(session, principal, settlement_id)
    if row is None:
        raise not_found(settlement_id)
    if row.enrollment_id is not None:
        repo.lock_enrollment(session, row.enrollment_id)
    fresh = repo.get_settlement_unscoped(session, row.id)
    assert fresh is not None
    return fresh


def confirm(session: Session, principal: Principal, settlement_id: str) -> SettlementOut:
    """The hospital confirms a pending outcome (it printed the bill): the held payout is committed."""
    principal.require(Perm.CLAIM_SETTLE)
    row = _locked(session, principal, settlement_id)
    if row.status == "pending":
        booking.commit(session, row, principal.subject_id)
        session.flush()
    elif row.status != "settled":
        raise _state_conflict(row.status, "settled")
    audit.record(
        session,
        principal,
        action="claim.settlement.confirm",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token, "status": row.status},
    )
    return settlement_out(row)


def cancel(session: Session, principal: Principal, settlement_id: str, data: CancelIn) -> Settled:
    """Cancel (撤销) a settlement: new negative entries; accumulators restored exactly. Idempotent."""
    principal.require(Perm.CLAIM_SETTLE)
    row = _locked(session, principal, settlement_id)
    claim = Claim(
        principal.org_id,
        row.hospital_id,
        row.channel,
        data.msg_id,
        Person(row.person_token, row.id_masked),
        row.product_code,
        {},
        request_hash({"cancel": row.id, "reason": data.reason}),
    )
    msg = repo.message(session, principal.org_id, data.msg_id)
    if msg is not None:
        if msg.operation != "cancel" or msg.request_hash != claim.hash:
            raise message_conflict(data.msg_id)
        return _replayed(session, principal, row, first_answer=False)  # the cancellation's answer
    if row.status == "pending":
        booking.release(session, row, principal.subject_id, "cancelled", data.reason)
    elif row.status == "settled":
        booking.reverse(session, row, principal.subject_id, data.reason)
    elif row.status != "cancelled":
        raise _state_conflict(row.status, "cancelled")
    session.flush()
    remember(session, claim, "cancel", row.id)
    audit.record(
        session,
        principal,
        action="claim.settlement.cancel",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token, "status": row.status},
    )
    return Settled(settlement_out(row), False)
