"""Post-discharge claims (出院后理赔): bills of hospitals outside direct settlement, and deferred settlements.

The insurer's staff enter the bill (or transfer a deferred settlement, whose stored bill is reused); it is
adjudicated by the same engine against the same accumulators, paid by the insurer directly to the person
(ledger: claims against the insurer's bank, in a book of kind `none` for the hospital), and settled at once.
Idempotent like instant settlement: by message id (in the insurer's namespace) and by business key.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import SettlementNotFound, SettlementStateConflict
from jinyu.claim.models import ClaimLedgerBook, ClaimProduct, ClaimSettlement
from jinyu.claim.rules import ledger as ledger_rules
from jinyu.claim.rules.adjudicate import Bill, adjudicate, bill_problems, invariant_holds, is_pre_existing
from jinyu.claim.rules.ledger import BookMode, Fallback, Funding, JournalKind
from jinyu.claim.schemas import PostDischargeIn
from jinyu.claim.service import booking, ledger
from jinyu.claim.service.answers import outcome, outcome_document
from jinyu.claim.service.common import (
    SETTLING_KINDS,
    Person,
    business_date,
    load_product,
    request_hash,
    require_org,
    settlement_out,
    usage_of,
)
from jinyu.claim.service.intake import (
    Claim,
    bill_invalid,
    bill_of,
    check_visit,
    claim_of,
    coverage,
    existing,
    key_conflict,
    new_row,
    original_answer,
    remember,
    setl_time_of,
    visit_taken,
)
from jinyu.claim.service.settlement import Settled
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import invalid
from jinyu.core.privacy import Keys
from jinyu.party import service as party

CHANNEL = "post_discharge"
ZERO = Decimal("0.00")


def submit(session: Session, principal: Principal, data: PostDischargeIn, key: Keys) -> Settled:
    """Adjudicate and pay a bill the person brings after discharge."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    hospital = party.resolve_org(session, data.hospital_id)
    if hospital is None or hospital.kind not in SETTLING_KINDS:
        raise invalid("hospital_id", "不是医院或药店机构 / not a hospital or pharmacy organisation")
    claim = claim_of(
        data,
        namespace=principal.org_id,
        hospital_id=data.hospital_id,
        channel=CHANNEL,
        msg_id=data.msg_id,
        key=key,
        pharmacy=hospital.kind == OrgKind.PHARMACY,
    )
    return _process(session, principal, claim)


def transfer(session: Session, principal: Principal, settlement_id: str, msg_id: str) -> Settled:
    """Turn a deferred instant settlement into a post-discharge claim, from its stored bill."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    origin = repo.get_settlement(session, principal, settlement_id)
    if origin is None:
        raise SettlementNotFound(detail=settlement_id)
    if origin.status not in ("deferred", "transferred"):
        raise SettlementStateConflict(detail=f"{origin.status}: 仅可转出延期结算 / only deferred settlements")
    doc = dict(origin.bill)
    claim = Claim(
        principal.org_id,
        origin.hospital_id,
        CHANNEL,
        msg_id,
        Person(origin.person_token, origin.id_masked),
        doc.get("product_code"),
        doc,
        request_hash({"person": origin.person_token, "hospital": origin.hospital_id, **doc}),
        _is_pharmacy(session, origin.hospital_id),
    )
    return _process(session, principal, claim)


def _is_pharmacy(session: Session, org_id: str) -> bool:
    org = party.resolve_org(session, org_id)
    return org is not None and org.kind == OrgKind.PHARMACY


def _process(session: Session, principal: Principal, claim: Claim) -> Settled:
    found = existing(session, claim, "post_discharge")
    if found is not None:
        return _answer(session, principal, found, replayed=True)
    bill = bill_of(claim.doc, claim.hospital_id, claim.pharmacy)
    problems = bill_problems(bill)
    if problems:
        raise bill_invalid(problems)
    direct = repo.settlement_by_key(session, claim.hospital_id, claim.mdtrt_id, claim.setl_id, "direct")
    if direct is not None and direct.status in ("pending", "settled"):
        raise SettlementStateConflict(detail="已在出院时直接结算 / already settled directly at discharge")
    origin = direct if direct is not None and direct.status == "deferred" else None
    setl_time = setl_time_of(claim.doc)
    enrollment, product_row = coverage(session, claim, business_date(setl_time), principal.org_id)
    try:
        with session.begin_nested():
            row = _pay(session, principal, claim, bill, enrollment.id, product_row, origin)
    except _Replay as replay:
        return _answer(session, principal, replay.settlement, replayed=True)
    except IntegrityError:
        found = existing(session, claim, "post_discharge")
        if found is None:
            active = repo.active_in_visit(session, claim.hospital_id, claim.mdtrt_id)
            if active is None:
                raise
            raise visit_taken(claim, active) from None
        return _answer(session, principal, found, replayed=True)
    return _answer(session, principal, row, replayed=False)


class _Replay(Exception):
    def __init__(self, settlement: ClaimSettlement) -> None:
        super().__init__(settlement.id)
        self.settlement = settlement


def _pay(
    session: Session,
    principal: Principal,
    claim: Claim,
    bill: Bill,
    enrollment_id: str,
    product_row: ClaimProduct,
    origin: ClaimSettlement | None,
) -> ClaimSettlement:
    loaded = load_product(session, product_row)
    enrollment = repo.lock_enrollment(session, enrollment_id)
    dup = repo.settlement_by_key(session, claim.hospital_id, claim.mdtrt_id, claim.setl_id, CHANNEL)
    if dup is not None:
        if dup.request_hash != claim.hash:
            raise key_conflict(claim)
        raise _Replay(dup)
    active = repo.active_in_visit(session, claim.hospital_id, claim.mdtrt_id)
    check_visit(claim, active, loaded.rules.interim_settlements)  # one settlement in force per visit
    rows = repo.accumulator_amounts(session, enrollment.id)
    year = loaded.rules.policy_year_of(bill.day) if bill.day else loaded.rules.year
    result = adjudicate(
        loaded.rules,
        bill,
        usage_of(rows, loaded.rules.counter_suffix(year)),
        pre_existing=is_pre_existing(enrollment.pre_existing, bill.diagnoses),
    )
    if not invariant_holds(bill, result):
        raise RuntimeError("settlement invariant broken / 结算恒等式不成立")
    parts = booking.split(loaded, result)
    totals: dict[str, Decimal] = {}
    for _, iid, amount in parts:
        totals[iid] = totals.get(iid, ZERO) + amount
    books = {iid: _book(session, iid, claim.hospital_id, loaded.rules.year) for iid in sorted(totals)}
    locked = repo.lock_books(session, [b.id for b in books.values()])
    funding = {iid: Funding(amount, ZERO, ZERO) for iid, amount in totals.items()}
    plan = booking.Plan(parts, totals, {i: locked[b.id] for i, b in books.items()}, funding)
    row = new_row(claim, bill, enrollment, product_row, status="settled")
    row.interim = loaded.rules.interim_settlements
    row.payout, row.cash_after = result.payout, result.cash_after
    row.policy_year = result.policy_year
    row.result = outcome_document(outcome(loaded, result, plan))
    row.funding = plan.as_json()
    row.confirmed_at = row.created_at
    row.origin_id = origin.id if origin is not None else None
    session.add(row)
    session.flush()
    booking.consume(session, enrollment.id, row.id, result.consumed, rows, loaded.rules.counter_suffix(year))
    for iid, f in sorted(funding.items()):
        ledger.post(
            session,
            plan.books[iid],
            JournalKind.POST_DISCHARGE,
            f"settlement:{row.id}:post_discharge",
            f.amount,
            ledger_rules.post_discharge(f.amount),
            actor_id=principal.subject_id,
            settlement_id=row.id,
        )
    booking.payout_entries(session, row, sign=1)
    remember(session, claim, "post_discharge", row.id)
    if origin is not None:
        origin.status = "transferred"
        origin.closed_at = utcnow()
        origin.note = f"转出院后理赔 / transferred to post-discharge claim {row.id}"
    session.flush()
    return row


def _book(session: Session, insurer_id: str, hospital_id: str, year: int) -> ClaimLedgerBook:
    """The insurer's book with the hospital for the year; a `none` book is opened for post-discharge claims."""
    book = repo.find_book(session, insurer_id, hospital_id, year)
    if book is not None:
        return book
    try:
        with session.begin_nested():
            book = ClaimLedgerBook(
                id=new_id(),
                insurer_id=insurer_id,
                hospital_id=hospital_id,
                product_year=year,
                mode=BookMode.NONE.value,
                fallback=Fallback.ARREARS.value,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            for account in ledger_rules.Account:
                setattr(book, account.value, ledger.ZERO)
            book.low_balance_threshold = ledger.ZERO
            session.add(book)
            session.flush()
    except IntegrityError:
        book = repo.find_book(session, insurer_id, hospital_id, year)
        if book is None:
            raise
    return book


def _answer(session: Session, principal: Principal, row: ClaimSettlement, *, replayed: bool) -> Settled:
    audit.record(
        session,
        principal,
        action="claim.post_discharge.replay" if replayed else "claim.post_discharge.pay",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token, "status": row.status, "payout": str(row.payout)},
    )
    return Settled(original_answer(row) if replayed else settlement_out(row), replayed)
