"""The settlement lifecycle under real concurrency (PostgreSQL, separate connections in threads): cancels and
re-settlements of one visit racing, through the service and through the settlement batcher; the batch path
keeps the one-settlement-per-visit rule; copies of one reconciliation file sent at once make one run."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.batcher import SettlementBatcher
from jinyu.claim.errors import VisitAlreadySettled
from jinyu.claim.models import (
    ClaimAccumulator,
    ClaimEnrollment,
    ClaimLedgerJournal,
    ClaimReconciliationRun,
    ClaimSettlement,
)
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.schemas import CancelIn, EnrollmentIn, ReconFileIn, ReconRecord, SettleIn
from jinyu.claim.service import batch
from jinyu.claim.service.ledger import balances
from jinyu.core import db
from tests.claim.factories import KEY, D, World, settle_in, world
from tests.claim.test_concurrency_pg import run_together
from tests.fixtures.auth import resident_id

pytestmark = pytest.mark.postgres
PERSONS = 10  # three racing jobs each: 30 connections, the engine's pool
# 40,000 in-list of which BMI paid 24,000, 10,000 out-of-list: 16,000 + 10,000 against the 20,000 deductible
# → out-of-list (26,000 − 20,000) × 70 % = 4,200 (hand-computed). The sequential result of settle, cancel,
# settle again: 4,200 paid once, the deductible used once (20,000), 4,200 of the overall cap.
BILL = {"inscp_scp_amt": "40000.00", "fulamt_ownpay_amt": "10000.00", "hifp_pay": "24000.00"}
SEQUENTIAL = {
    ("deductible", "annual"): D("20000.00"),
    ("liability", "outlist"): D("4200.00"),
    ("overall", "overall"): D("4200.00"),
}


def people_world(factory: sessionmaker[Session], n: int) -> tuple[World, list[str]]:
    with db.transaction(factory) as s:
        w = world(s)
        people = [w.certno]
        for k in range(n - 1):
            certno = resident_id(seq=800 + k)
            service.enroll(s, w.insurer_staff, EnrollmentIn(product_code=w.product_code, certno=certno), KEY)  # type: ignore[arg-type]
            people.append(certno)
    return w, people


def discharge(w: World, msg: str, person: int, certno: str, setl_id: str) -> SettleIn:
    return settle_in(
        w, msg, mdtrt_id=f"V{person}", setl_id=setl_id, certno=certno, auto_confirm=True, **BILL
    ).model_copy(update={"product_code": w.product_code})


def test_cancels_and_re_settlements_racing_pay_each_visit_once(pg_factory: sessionmaker[Session]) -> None:
    """Per person: S1 settled; then at once its cancellation, a re-settlement S2 through the batcher (the
    HTTP path) and another S3 through the service. A re-settlement answered 409 is sent again once after
    (as the hospital would, after its cancel is answered). Every person ends as the sequential run does."""
    w, people = people_world(pg_factory, PERSONS)
    first = []
    for i, certno in enumerate(people):
        with db.transaction(pg_factory) as s:
            first.append(service.settle(s, w.his, discharge(w, f"m1-{i}", i, certno, "S1"), KEY).settlement)
    batcher = SettlementBatcher(pg_factory, max_batch=8)

    def via_batcher(data: SettleIn) -> Callable[[Session], Any]:
        return lambda _s: asyncio.run(batcher.settle(w.his, data, KEY))

    jobs: list[Callable[[Session], Any]] = []
    resettle: list[SettleIn] = []
    for i, certno in enumerate(people):
        s2, s3 = (discharge(w, f"m{k}-{i}", i, certno, f"S{k}") for k in (2, 3))
        resettle += [s2, s3]
        jobs += [
            lambda s, i=i: service.cancel(
                s, w.his, first[i].id, CancelIn(msg_id=f"c-{i}", reason="重新结算")
            ),
            via_batcher(s2),
            lambda s, d=s3: service.settle(s, w.his, d, KEY),
        ]
    try:
        answers = run_together(pg_factory, jobs)
        unexpected = [
            a for a in answers if isinstance(a, BaseException) and not isinstance(a, VisitAlreadySettled)
        ]
        assert not unexpected, unexpected
        for a in answers:
            if isinstance(a, service.Settled) and a.settlement.setl_id != "S1":
                assert a.settlement.payout == D("4200.00")  # judged after the cancellation, never on top
        for k, data in enumerate(resettle):  # the refused ones, once more
            if isinstance(answers[3 * (k // 2) + 1 + k % 2], VisitAlreadySettled):
                try:
                    with db.transaction(pg_factory) as s:
                        service.settle(s, w.his, data, KEY)
                except VisitAlreadySettled:
                    pass  # the other re-settlement of the visit is in force
    finally:
        batcher.stop()

    with db.transaction(pg_factory) as s:
        rows = s.scalars(select(ClaimSettlement)).all()
        in_force = [r for r in rows if r.status in ("pending", "settled")]
        assert Counter(r.mdtrt_id for r in in_force) == {f"V{i}": 1 for i in range(PERSONS)}
        assert all(
            (r.status, r.payout, r.setl_id != "S1") == ("settled", D("4200.00"), True) for r in in_force
        )
        assert {r.mdtrt_id for r in rows if r.status == "cancelled"} == {f"V{i}" for i in range(PERSONS)}
        for e in s.scalars(select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code)):
            cached = {
                (a.kind, a.code): a.amount
                for a in s.scalars(select(ClaimAccumulator).where(ClaimAccumulator.enrollment_id == e.id))
                if a.amount
            }
            assert cached == SEQUENTIAL, e.person_token
            assert {k: v for k, v in repo.accumulator_entry_sums(s, e.id).items() if v} == SEQUENTIAL
        book = repo.lock_book(s, w.book_id)
        assert balances(book) == balances_of(repo.book_postings(s, w.book_id))
        assert book.claims == PERSONS * D("4200.00")


def test_a_batch_hands_back_a_visit_in_force(pg_factory: sessionmaker[Session]) -> None:
    w, people = people_world(pg_factory, 2)
    with db.transaction(pg_factory) as s:
        first = service.settle(s, w.his, discharge(w, "m1", 0, people[0], "S1"), KEY).settlement
    again = discharge(w, "m2", 0, people[0], "S2")
    other = discharge(w, "m3", 1, people[1], "S1")
    with db.transaction(pg_factory) as s:
        results = batch.settle_batch(s, [batch.Job(w.his, d, KEY, time.monotonic()) for d in (again, other)])
    assert results[0] is None  # on its own, where it is refused
    assert isinstance(results[1], service.Settled)
    with pytest.raises(VisitAlreadySettled) as refused, db.transaction(pg_factory) as s:
        service.settle(s, w.his, again, KEY)
    assert refused.value.extra["existing"]["id"] == first.id


def test_a_visit_settled_at_once_under_two_policy_years_is_refused_by_the_database(
    pg_factory: sessionmaker[Session],
) -> None:
    """A visit across the new year: its two settlements lock different enrollments (2025 and 2026), so only
    the unique index stands between them. The second waits on it while the first is uncommitted, fails when
    it commits, and answers 409 naming the first (not 500)."""
    from jinyu.claim.schemas import LedgerBookIn, LedgerEntryIn, ProductIn
    from tests.claim.factories import sample_definition

    with db.transaction(pg_factory) as s:
        w = world(s)
        definition = sample_definition(
            [w.insurer.code],
            code=f"{w.product_code}-26",
            year=2026,
            period={"start": "2026-01-01", "end": "2026-12-31"},
        )
        service.create_product(s, w.insurer_staff, ProductIn(definition=definition, activate=True))
        book = service.create_book(
            s, w.insurer_staff, LedgerBookIn(hospital_id=w.hospital.id, product_year=2026)
        )
        service.post_entry(
            s, w.insurer_staff, book.id, LedgerEntryIn(kind="deposit", amount=D("100000.00"), reference="i")
        )
        service.enroll(
            s, w.insurer_staff, EnrollmentIn(product_code=f"{w.product_code}-26", certno=w.certno), KEY
        )  # type: ignore[arg-type]
    late = settle_in(w, "m1", mdtrt_id="V-NY", setl_id="S1", setl_time=dt.datetime(2025, 12, 31, 10), **BILL)
    early = settle_in(w, "m2", mdtrt_id="V-NY", setl_id="S2", setl_time=dt.datetime(2026, 1, 1, 10), **BILL)
    first_session = pg_factory()
    try:
        first = service.settle(first_session, w.his, late, KEY).settlement  # written, not committed
        answer: list[Any] = []

        def second() -> None:
            try:
                with db.transaction(pg_factory) as s:
                    answer.append(service.settle(s, w.his, early, KEY))
            except BaseException as exc:
                answer.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        with db.transaction(pg_factory) as s:
            for _ in range(3000):  # until the second settlement waits on the index (not a timing assertion)
                if s.execute(text(waiting)).scalar() or not thread.is_alive():
                    break
                s.rollback()
                time.sleep(0.01)
        first_session.commit()
        thread.join(timeout=60)
    finally:
        first_session.close()
    [refused] = answer
    assert isinstance(refused, VisitAlreadySettled), refused
    assert refused.extra["existing"]["id"] == first.id
    with db.transaction(pg_factory) as s:
        assert [r.setl_id for r in s.scalars(select(ClaimSettlement))] == ["S1"]


# ------------------------------------------------------------------------------------------------ reconciliation


def day_file(*records: tuple[str, str, str, str]) -> ReconFileIn:
    recs = [ReconRecord(mdtrt_id=m, setl_id=s, status=st, payout=D(p)) for m, s, st, p in records]  # type: ignore[arg-type]
    settled = [r for r in recs if r.status == "settled"]
    return ReconFileIn(
        business_date=dt.date(2025, 6, 1),
        total_count=len(settled),
        total_payout=sum((r.payout for r in settled), Decimal("0.00")),
        records=recs,
    )


@pytest.mark.parametrize("with_settlements", [True, False])
def test_eight_copies_of_one_reconciliation_file_sent_at_once_make_one_run(
    pg_factory: sessionmaker[Session], with_settlements: bool
) -> None:
    """With settlements the copies queue on the persons' locks; without, only the run's unique key stands
    between them. Either way: every copy answered (2xx), one run, corrections made once."""
    w, people = people_world(pg_factory, 2)
    if with_settlements:
        with db.transaction(pg_factory) as s:
            pending = discharge(w, "m1", 0, people[0], "S1").model_copy(update={"auto_confirm": False})
            service.settle(s, w.his, pending, KEY)
            service.settle(s, w.his, discharge(w, "m2", 1, people[1], "S1"), KEY)
        daily = day_file(("V0", "S1", "settled", "4200.00"), ("V1", "S1", "cancelled", "4200.00"))
    else:
        daily = day_file(("V9", "S9", "settled", "99.00"))
    with db.transaction(pg_factory) as s:
        before = s.scalar(select(func.count()).select_from(ClaimLedgerJournal)) or 0
    answers = run_together(pg_factory, [lambda s: service.reconcile_file(s, w.his, daily)] * 8)
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert len({run.id for run, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * 7  # 201 once, then 200
    run = answers[0][0]
    with db.transaction(pg_factory) as s:
        assert s.scalar(select(func.count()).select_from(ClaimReconciliationRun)) == 1
        journals = s.scalar(select(func.count()).select_from(ClaimLedgerJournal)) or 0
    if with_settlements:  # V0 confirmed (commit), V1 reversed (reversal): two journals, once
        assert (run.status, run.corrections, journals) == ("corrected", 2, before + 2)
    else:
        assert (run.status, run.discrepancies, journals) == ("discrepancies", 1, before)
