"""Shared by the lost-connection tests: a hospital with many enrolled people, their bills, and what the books
must say afterwards (computed by hand, and from the postings, never from the code under test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.models import ClaimAccumulator, ClaimEnrollment, ClaimSettlement
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.schemas import EnrollmentIn, SettleIn
from jinyu.claim.service.ledger import balances
from jinyu.core import db
from jinyu.core.auth import SYSTEM, Role
from jinyu.party import service as party
from jinyu.party.schemas import ServiceAccountCreate
from tests.claim.factories import KEY, D, World, settle_in, world
from tests.fixtures.auth import resident_id

# A person's first discharge under the sample product pays 4,200 (the bill and figure of test_crash_pg.py): the
# same for every person, whatever order the discharges are settled in.
BILL = {
    "inscp_scp_amt": "40000.00",
    "fulamt_ownpay_amt": "10000.00",
    "hifp_pay": "24000.00",
    "auto_confirm": True,
}
PAYOUT = D("4200.00")


@dataclass
class Hospital:
    w: World
    people: list[str]
    api_key: str

    def bill(self, n: int) -> SettleIn:
        """Person n's discharge (message id `M-n`)."""
        data = settle_in(
            self.w, f"M-{n}", mdtrt_id=f"MD-{n}", setl_id=f"SETL-{n}", certno=self.people[n], **BILL
        )
        return data.model_copy(update={"product_code": self.w.product_code})


def hospital(factory: sessionmaker[Session], people: int) -> Hospital:
    """An insurer's product, the hospital's prepaid book (1,000,000) and API key, `people` enrolled people."""
    with db.transaction(factory) as s:
        w = world(s)
        certnos = [w.certno]
        for n in range(people - 1):
            certno = resident_id(seq=200 + n)
            data = EnrollmentIn(product_code=w.product_code, certno=certno)  # type: ignore[arg-type]
            service.enroll(s, w.insurer_staff, data, KEY)
            certnos.append(certno)
        account = ServiceAccountCreate(name="HIS", org_id=w.hospital.id, roles=[Role.HOSPITAL_SYSTEM])
        key = party.create_service_account(s, SYSTEM, account).api_key
    return Hospital(w, certnos, str(key))


def settled_once(factory: sessionmaker[Session], h: Hospital, messages: set[str]) -> dict[str, str]:
    """Each message settled exactly once, for 4,200; the book's cached balances equal its postings and its
    claims the sum of the payouts; each person's accumulators equal their entries. The settlement id of
    each message."""
    factory.kw["bind"].dispose()  # the test's own pooled connections were terminated with the others
    with db.transaction(factory) as s:
        rows = s.scalars(
            select(ClaimSettlement).where(ClaimSettlement.product_code == h.w.product_code)
        ).all()
        assert sorted(r.msg_id for r in rows) == sorted(messages), "each message settled once, none else"
        assert {(r.status, r.payout) for r in rows} <= {("settled", PAYOUT)}
        book = repo.lock_book(s, h.w.book_id)
        assert balances(book) == balances_of(repo.book_postings(s, h.w.book_id))
        assert book.claims == PAYOUT * len(messages)
        assert book.prepaid == D("1000000.00") - PAYOUT * len(messages)
        enrollments = s.scalars(
            select(ClaimEnrollment).where(ClaimEnrollment.product_code == h.w.product_code)
        )
        for e in enrollments:
            own = {
                (a.kind, a.code): a.amount
                for a in s.scalars(select(ClaimAccumulator).where(ClaimAccumulator.enrollment_id == e.id))
            }
            entries = repo.accumulator_entry_sums(s, e.id)
            assert own == {k: v for k, v in entries.items() if v != 0 or k in own}
        return {r.msg_id: r.id for r in rows}


def answered(answers: list[Any], kind: type) -> list[Any]:
    return [a for a in answers if isinstance(a, kind)]
