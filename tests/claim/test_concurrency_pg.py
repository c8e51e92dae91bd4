"""Real concurrency on PostgreSQL: separate connections in threads settle discharges of one person at the
same moment. The person-year's row lock must make them take turns: the deductible and the caps are never
used twice, and a message sent twice at once is settled once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.models import ClaimAccumulator, ClaimEnrollment, ClaimSettlement
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.service.ledger import balances
from jinyu.core import db
from tests.claim.factories import KEY, D, World, settle_in, world

pytestmark = pytest.mark.postgres
THREADS = 8
# Each discharge leaves 12,000 in-list after BMI. In any order: 12,000 + 8,000 of deductible, then 2,800,
# then 8,400 for each of the other six.
BILL = {"inscp_scp_amt": "30000.00", "hifp_pay": "18000.00", "auto_confirm": True}


def committed_world(factory: sessionmaker[Session], **changes: Any) -> World:
    with db.transaction(factory) as s:
        return world(s, **changes)


def run_together(factory: sessionmaker[Session], jobs: list[Callable[[Session], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with db.transaction(factory) as s:
                results[i] = jobs[i](s)
        except BaseException as exc:  # reported by the test thread
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def totals(factory: sessionmaker[Session], w: World) -> tuple[Decimal, dict[tuple[str, str], Decimal]]:
    with db.transaction(factory) as s:
        paid = s.scalar(
            select(func.sum(ClaimSettlement.payout)).where(ClaimSettlement.status == "settled")
        ) or D(0)
        e = s.scalars(select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code)).one()
        acc = {(a.kind, a.code): a.amount for a in s.scalars(select(ClaimAccumulator))}
        assert acc == {k: v for k, v in repo.accumulator_entry_sums(s, e.id).items()}
        book = repo.lock_book(s, w.book_id)
        assert balances(book) == balances_of(repo.book_postings(s, w.book_id))
        assert book.claims == paid
        return paid, acc


def test_concurrent_discharges_never_use_the_deductible_twice(pg_factory: sessionmaker[Session]) -> None:
    w = committed_world(pg_factory)
    jobs = [
        (
            lambda s, i=i: service.settle(
                s, w.his, settle_in(w, f"m{i}", mdtrt_id=f"V{i}", setl_id=f"S{i}", **BILL), KEY
            )
        )
        for i in range(THREADS)
    ]
    results = run_together(pg_factory, jobs)
    assert not [r for r in results if isinstance(r, BaseException)], results
    paid, acc = totals(pg_factory, w)
    assert paid == D("2800.00") + 6 * D("8400.00")
    assert acc[("deductible", "annual")] == D("20000.00")
    assert sorted(r.settlement.payout for r in results) == [D(0), D("2800.00")] + [D("8400.00")] * 6


def test_concurrent_discharges_never_exceed_the_cap(pg_factory: sessionmaker[Session]) -> None:
    w = committed_world(pg_factory, overall_cap="10000.00")
    jobs = [
        (
            lambda s, i=i: service.settle(
                s, w.his, settle_in(w, f"m{i}", mdtrt_id=f"V{i}", setl_id=f"S{i}", **BILL), KEY
            )
        )
        for i in range(THREADS)
    ]
    results = run_together(pg_factory, jobs)
    assert not [r for r in results if isinstance(r, BaseException)], results
    paid, acc = totals(pg_factory, w)
    assert paid == D("10000.00") == acc[("overall", "overall")]


def test_the_same_message_sent_at_once_is_settled_once(pg_factory: sessionmaker[Session]) -> None:
    w = committed_world(pg_factory)
    bill = {"inscp_scp_amt": "60000.00", "hifp_pay": "30000.00", "auto_confirm": True}
    # half the copies share the message id, the other half only the business key
    jobs = [
        (
            lambda s, i=i: service.settle(
                s, w.his, settle_in(w, "same" if i % 2 else f"other-{i}", **bill), KEY
            )
        )
        for i in range(THREADS)
    ]
    results = run_together(pg_factory, jobs)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({r.settlement.id for r in results}) == 1
    assert sum(1 for r in results if not r.replayed) == 1
    assert len({r.settlement.model_dump_json() for r in results}) == 1
    paid, _ = totals(pg_factory, w)
    assert paid == D("7000.00")  # (30,000 − 20,000) × 70 %, once


def test_a_settlement_that_cannot_answer_in_time_is_deferred(pg_factory: sessionmaker[Session]) -> None:
    """Another transaction holds the person's row: with a 200 ms budget the answer is `deferred` (a state,
    not an error), nothing is held, and the hospital settles BMI alone."""
    w = committed_world(pg_factory)
    blocker = pg_factory()
    with db.transaction(pg_factory) as s:
        enrollment_id = s.scalars(select(ClaimEnrollment.id)).one()
    repo.lock_enrollment(blocker, enrollment_id)  # held until the blocker ends
    try:
        request = settle_in(w, "m1", **BILL).model_copy(update={"time_budget_ms": 200})
        with db.transaction(pg_factory) as s:
            out = service.settle(s, w.his, request, KEY)
    finally:
        blocker.rollback()
        blocker.close()
    s_out = out.settlement
    assert (s_out.status, s_out.payout, s_out.cash_after) == ("deferred", D("0.00"), s_out.cash_before)
    assert s_out.outcome is not None and s_out.outcome.not_paid[0].code == "time_budget"
    paid, acc = totals(pg_factory, w)
    assert paid == 0 and acc == {}
    with db.transaction(pg_factory) as s:  # the replay answers the same deferral
        assert service.settle(s, w.his, request, KEY).replayed
