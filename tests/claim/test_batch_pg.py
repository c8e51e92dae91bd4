"""Settlements in batches (PostgreSQL): the same answers, rows and totals as one by one; anything unusual is
handed back to the single path, and the batcher answers every discharge once."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.batcher import SettlementBatcher
from jinyu.claim.errors import BillInvalid
from jinyu.claim.models import ClaimAccumulator, ClaimEnrollment, ClaimSettlement
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.schemas import EnrollmentIn, SettleIn
from jinyu.claim.service import batch
from jinyu.claim.service.ledger import balances
from jinyu.core import db
from tests.claim.factories import KEY, World, settle_in, world
from tests.fixtures.auth import resident_id

pytestmark = pytest.mark.postgres
PEOPLE = 6


def enrolled_world(factory: sessionmaker[Session], **book: str) -> tuple[World, list[str]]:
    with db.transaction(factory) as s:
        w = world(s, **book)
        people = [w.certno]
        for n in range(PEOPLE - 1):
            certno = resident_id(seq=700 + n)
            service.enroll(s, w.insurer_staff, EnrollmentIn(product_code=w.product_code, certno=certno), KEY)  # type: ignore[arg-type]
            people.append(certno)
    return w, people


def bills(w: World, people: list[str], tag: str) -> list[SettleIn]:
    """Different sizes: under the deductible, crossing it, well past it."""
    sizes = ["9000.00", "30000.00", "80000.00", "12000.00", "45000.00", "150000.00"]
    return [
        settle_in(
            w,
            f"{tag}-{n}",
            mdtrt_id=f"MD-{tag}-{n}",
            setl_id=f"SETL-{tag}-{n}",
            certno=certno,
            inscp_scp_amt=sizes[n % len(sizes)],
            hifp_pay=str((Decimal(sizes[n % len(sizes)]) * Decimal("0.5")).quantize(Decimal("0.01"))),
            auto_confirm=n % 2 == 0,
        ).model_copy(update={"product_code": w.product_code})  # the same people are in other tests' products
        for n, certno in enumerate(people)
    ]


def jobs(w: World, data: list[SettleIn]) -> list[batch.Job]:
    return [batch.Job(w.his, d, KEY, time.monotonic()) for d in data]


def settle_batch(factory: sessionmaker[Session], todo: list[batch.Job]) -> list[batch.Result]:
    with db.transaction(factory) as s:
        return batch.settle_batch(s, todo)


def state(factory: sessionmaker[Session], w: World) -> dict[str, Any]:
    with db.transaction(factory) as s:
        rows = s.scalars(select(ClaimSettlement).where(ClaimSettlement.product_code == w.product_code)).all()
        book = repo.lock_book(s, w.book_id)
        assert balances(book) == balances_of(repo.book_postings(s, w.book_id))
        enrollments = s.scalars(select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code))
        acc: dict[str, dict[tuple[str, str], Decimal]] = {}
        for e in enrollments:
            own = {
                (a.kind, a.code): a.amount
                for a in s.scalars(select(ClaimAccumulator).where(ClaimAccumulator.enrollment_id == e.id))
            }
            assert own == {
                k: v for k, v in repo.accumulator_entry_sums(s, e.id).items() if v != 0 or k in own
            }
            acc[e.id_masked] = own
        return {
            "outcomes": sorted(
                (
                    r.id_masked,
                    r.status,
                    r.payout,
                    r.cash_after,
                    r.result["liabilities"] and str(r.result["liabilities"]),
                )
                for r in rows
            ),
            "balances": balances(book).as_dict(),
            "accumulators": acc,
        }


def test_a_batch_settles_exactly_like_one_by_one(pg_factory: sessionmaker[Session]) -> None:
    one, people_one = enrolled_world(pg_factory)
    many, people_many = enrolled_world(pg_factory)
    for data in bills(one, people_one, "A"):
        with db.transaction(pg_factory) as s:
            service.settle(s, one.his, data, KEY)
    results = settle_batch(pg_factory, jobs(many, bills(many, people_many, "A")))
    assert all(isinstance(r, service.Settled) and not r.replayed for r in results)
    a, b = state(pg_factory, one), state(pg_factory, many)
    assert a["outcomes"] == b["outcomes"]
    assert a["balances"] == b["balances"]
    assert sorted(map(sorted, (v.items() for v in a["accumulators"].values()))) == sorted(
        map(sorted, (v.items() for v in b["accumulators"].values()))
    )
    with db.transaction(pg_factory) as s:  # every settlement audited once
        from jinyu.audit.models import AuditEntry

        audited = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "claim.settlement.settle")
        )
        assert audited == 2 * PEOPLE


def test_a_batch_hands_back_what_needs_the_single_path(pg_factory: sessionmaker[Session]) -> None:
    w, people = enrolled_world(pg_factory)
    first = bills(w, people, "B")
    with db.transaction(pg_factory) as s:
        service.settle(s, w.his, first[0], KEY)  # already settled: the batch sees its message id
    invalid = first[2].model_copy(deep=True)
    invalid.setlinfo.medfee_sumamt = Decimal("1.00")  # no longer the sum of its parts
    stranger = settle_in(
        w,
        "B-stranger",
        mdtrt_id="MD-X",
        setl_id="SETL-X",
        certno=resident_id(seq=990),
        inscp_scp_amt="1000.00",
    )
    again = settle_in(
        w, "B-again", mdtrt_id="MD-Y", setl_id="SETL-Y", certno=people[1], inscp_scp_amt="5000.00"
    )
    stranger, again = (d.model_copy(update={"product_code": w.product_code}) for d in (stranger, again))
    todo = jobs(w, [first[0], first[1], invalid, stranger, again, first[3]])
    results = settle_batch(pg_factory, todo)
    assert results[0] is None  # a replay: on its own
    assert isinstance(results[1], service.Settled)
    assert isinstance(results[2], BillInvalid)  # refused, as on its own
    assert results[3] is None  # not enrolled: on its own (it answers 422 there)
    assert results[4] is None  # the same person as results[1]: after the batch, on its totals
    assert isinstance(results[5], service.Settled)


def test_a_book_running_short_mid_batch_funds_in_order_like_one_by_one(
    pg_factory: sessionmaker[Session],
) -> None:
    """Each settlement is funded from the locked balance the ones before it left: prepaid while it lasts, then
    advanced by the hospital (arrears), with the low-balance and overdraw alerts of one by one."""
    short = {"deposit": "30000.00", "threshold": "20000.00"}
    one, people_one = enrolled_world(pg_factory, **short)
    many, people_many = enrolled_world(pg_factory, **short)
    for data in bills(one, people_one, "C"):
        with db.transaction(pg_factory) as s:
            service.settle(s, one.his, data, KEY)
    results = settle_batch(pg_factory, jobs(many, bills(many, people_many, "C")))
    assert all(isinstance(r, service.Settled) for r in results)
    a, b = state(pg_factory, one), state(pg_factory, many)
    assert a["outcomes"] == b["outcomes"]
    assert a["balances"] == b["balances"]
    assert Decimal(b["balances"]["prepaid"]) == 0 and Decimal(b["balances"]["payable"]) < 0  # ran short
    with db.transaction(pg_factory) as s:
        assert alerts(s, one.book_id) == alerts(s, many.book_id) == ["low_balance", "overdraw_fallback"]


def test_a_book_that_defers_hands_back_what_it_cannot_fund(pg_factory: sessionmaker[Session]) -> None:
    w, people = enrolled_world(pg_factory, deposit="30000.00", fallback="defer")
    data = bills(w, people, "E")
    results = settle_batch(pg_factory, jobs(w, data))
    settled = [r for r in results if isinstance(r, service.Settled)]
    assert settled and None in results  # the balance lasted for some, not for all
    with db.transaction(pg_factory) as s:
        book = repo.lock_book(s, w.book_id)
        paid_from_prepaid = sum((Decimal(r.settlement.payout) for r in settled), Decimal("0.00"))
        assert book.prepaid == Decimal("30000.00") - paid_from_prepaid >= 0
        assert s.scalar(select(func.count()).select_from(ClaimSettlement)) == len(settled)


def alerts(s: Session, book_id: str) -> list[str]:
    from jinyu.claim.models import ClaimAlert

    return sorted(a.kind for a in s.scalars(select(ClaimAlert).where(ClaimAlert.book_id == book_id)))


def test_the_batcher_answers_every_discharge_once(pg_factory: sessionmaker[Session]) -> None:
    w, people = enrolled_world(pg_factory)
    data = bills(w, people, "D")
    replay = data[0]
    invalid = data[1].model_copy(deep=True)
    invalid.msg_id = "D-invalid"
    invalid.setlinfo.mdtrt_id = "MD-invalid"
    invalid.setlinfo.medfee_sumamt = Decimal("1.00")
    batcher = SettlementBatcher(pg_factory, max_batch=32)

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(
            *(batcher.settle(w.his, d, KEY) for d in [*data, replay, invalid]), return_exceptions=True
        )

    try:
        answers = asyncio.run(all_at_once())
    finally:
        batcher.stop()
    settled = answers[: len(data)]
    assert all(isinstance(a, service.Settled) for a in settled)
    twin = answers[len(data)]
    assert isinstance(twin, service.Settled)
    assert twin.settlement.id == settled[0].settlement.id  # the same message answered the same
    assert isinstance(answers[-1], BillInvalid)
    with db.transaction(pg_factory) as s:
        assert s.scalar(select(func.count()).select_from(ClaimSettlement)) == len(data)


def test_a_batch_waits_for_locks_no_longer_than_the_smallest_budget_left(
    pg_factory: sessionmaker[Session],
) -> None:
    """Another transaction holds the hospital's book: the batch's locks time out within the budget, the batch
    rolls back, and each discharge, on its own, is deferred (a state); with nothing held the same budgets
    settle in the batch."""
    w, people = enrolled_world(pg_factory)
    data = [d.model_copy(update={"time_budget_ms": 300}) for d in bills(w, people, "F")]
    blocker = pg_factory()
    repo.lock_book(blocker, w.book_id)  # held until the blocker ends
    batcher = SettlementBatcher(pg_factory, max_batch=32)

    async def all_at_once(todo: list[SettleIn]) -> list[Any]:
        return await asyncio.gather(*(batcher.settle(w.his, d, KEY) for d in todo), return_exceptions=True)

    try:
        with pytest.raises(Exception, match="lock timeout"), db.transaction(pg_factory) as s:
            batch.settle_batch(s, jobs(w, data[:2]))
        answers = asyncio.run(all_at_once(data[:2]))
        assert [a.settlement.status for a in answers] == ["deferred", "deferred"]
    finally:
        blocker.rollback()
        blocker.close()
        batcher.stop()
    results = settle_batch(pg_factory, jobs(w, data[2:]))
    assert all(isinstance(r, service.Settled) and r.settlement.status != "deferred" for r in results)
