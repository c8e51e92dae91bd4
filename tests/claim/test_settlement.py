"""Instant settlement on a real database (SQLite and PostgreSQL): idempotency, confirm, cancel, re-settle,
and that the ledger and the accumulators agree with the settlements to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.errors import (
    BillInvalid,
    HospitalNotInScheme,
    IdempotencyConflict,
    NotEnrolled,
    PersonUnknown,
    SettlementNotFound,
    SettlementStateConflict,
    VisitAlreadySettled,
)
from jinyu.claim.models import ClaimEnrollment, ClaimPayoutEntry, ClaimSettlement
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.schemas import CancelIn, EligibilityIn, FeeLine
from jinyu.core.auth import OrgKind, Role
from tests.claim.factories import KEY, D, World, settle_in, world
from tests.fixtures.auth import make_org, principal, resident_id

# 40,000 in-list of which BMI paid 24,000, 10,000 out-of-list: 16,000 + 10,000 against a 20,000 deductible
# → in-list 0, out-of-list (26,000 − 20,000) × 70 % = 4,200.
BILL = {"inscp_scp_amt": "40000.00", "fulamt_ownpay_amt": "10000.00", "hifp_pay": "24000.00"}


def enrollment(session: Session, w: World) -> ClaimEnrollment:
    return session.scalars(
        select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code)
    ).one()


def accumulators(session: Session, w: World) -> dict[tuple[str, str], Decimal]:
    e = enrollment(session, w)
    return {k: a.amount for k, a in repo.accumulators(session, e.id).items() if a.amount}


def check_books_agree(session: Session, w: World) -> None:
    """Cached book balances == sum of postings; claims account == net committed payouts; accumulators ==
    sum of their entries."""
    book = repo.lock_book(session, w.book_id)
    from jinyu.claim.service.ledger import balances

    assert balances(book) == balances_of(repo.book_postings(session, w.book_id))
    net = sum(session.scalars(select(ClaimPayoutEntry.amount)), D(0))
    assert book.claims == net
    e = enrollment(session, w)
    cached = {k: a.amount for k, a in repo.accumulators(session, e.id).items()}
    entries = repo.accumulator_entry_sums(session, e.id)
    assert {k: v for k, v in cached.items() if v} == {k: v for k, v in entries.items() if v}


def test_settle_pending_then_confirm(session: Session) -> None:
    w = world(session)
    out = service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY)
    s = out.settlement
    assert not out.replayed
    assert (s.status, s.payout, s.cash_before, s.cash_after) == (
        "pending",
        D("4200.00"),
        D("26000.00"),
        D("21800.00"),
    )
    assert s.funds + s.acct_pay + s.payout + s.cash_after == s.medfee_sumamt
    assert s.outcome is not None and s.outcome.accumulators is not None
    assert s.outcome.accumulators.deductibles[0].remaining == 0
    assert s.id_masked.startswith("500101") and "*" in s.id_masked
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert (book.balances["held"], book.balances["prepaid"], book.balances["claims"]) == (
        D("4200.00"),
        D("995800.00"),
        D("0.00"),
    )
    confirmed = service.confirm(session, w.his, s.id)
    assert confirmed.status == "settled"
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert (book.balances["held"], book.balances["claims"]) == (D("0.00"), D("4200.00"))
    assert service.confirm(session, w.his, s.id).status == "settled"  # idempotent
    check_books_agree(session, w)


def test_replay_by_message_id_and_by_business_key_returns_the_same(session: Session) -> None:
    w = world(session)
    first = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY)
    again = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY)
    other_msg = service.settle(session, w.his, settle_in(w, "m2", auto_confirm=True, **BILL), KEY)
    assert again.replayed and other_msg.replayed
    assert again.settlement == first.settlement == other_msg.settlement
    assert session.scalars(select(ClaimSettlement)).all() == [
        session.get(ClaimSettlement, first.settlement.id)
    ]
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert book.balances["claims"] == D("4200.00")


def test_conflicting_reuse_is_refused(session: Session) -> None:
    w = world(session)
    service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY)
    changed = {**BILL, "fulamt_ownpay_amt": "10000.01"}
    with pytest.raises(IdempotencyConflict):  # same message id, other content
        service.settle(session, w.his, settle_in(w, "m1", setl_id="SETL-2", **changed), KEY)
    with pytest.raises(IdempotencyConflict):  # same business key, other content
        service.settle(session, w.his, settle_in(w, "m9", **changed), KEY)


def test_cancel_restores_exactly_and_a_new_settlement_pays_the_same(session: Session) -> None:
    w = world(session)
    before = accumulators(session, w)
    s1 = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    assert accumulators(session, w)[("deductible", "annual")] == D("20000.00")
    cancelled = service.cancel(session, w.his, s1.id, CancelIn(msg_id="c1", reason="患者要求重新结算"))
    assert cancelled.settlement.status == "cancelled"
    assert accumulators(session, w) == before
    replay = service.cancel(session, w.his, s1.id, CancelIn(msg_id="c1", reason="患者要求重新结算"))
    assert replay.replayed and replay.settlement.status == "cancelled"
    with pytest.raises(IdempotencyConflict):
        service.cancel(session, w.his, s1.id, CancelIn(msg_id="c1", reason="另一个理由"))
    # the hospital settles the discharge again (new setl_id): the same payout, from the restored accumulators
    s2 = service.settle(session, w.his, settle_in(w, "m2", setl_id="SETL-2", auto_confirm=True, **BILL), KEY)
    assert s2.settlement.payout == s1.payout
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert book.balances["claims"] == D("4200.00") and book.balances["prepaid"] == D("995800.00")
    check_books_agree(session, w)
    # a cancelled settlement cannot be confirmed
    with pytest.raises(SettlementStateConflict):
        service.confirm(session, w.his, s1.id)


def test_cancelling_a_pending_settlement_releases_the_hold(session: Session) -> None:
    w = world(session)
    s = service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY).settlement
    service.cancel(session, w.his, s.id, CancelIn(msg_id="c1", reason="未确认即撤销"))
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert book.balances == {
        "prepaid": D("1000000.00"),
        "held": D(0),
        "payable": D(0),
        "claims": D(0),
        "bank": D("-1000000.00"),
    }
    assert accumulators(session, w) == {}
    check_books_agree(session, w)


def test_two_discharges_share_the_deductible(session: Session) -> None:
    w = world(session)
    a = service.settle(
        session,
        w.his,
        settle_in(w, "m1", auto_confirm=True, inscp_scp_amt="30000.00", hifp_pay="18000.00"),
        KEY,
    ).settlement
    assert a.payout == 0  # 12,000 of the 20,000 deductible
    b = service.settle(
        session,
        w.his,
        settle_in(
            w,
            "m2",
            mdtrt_id="MDTRT-2",
            setl_id="SETL-2",
            auto_confirm=True,
            inscp_scp_amt="30000.00",
            hifp_pay="18000.00",
        ),
        KEY,
    ).settlement
    assert b.payout == D("2800.00")  # 8,000 left of the deductible; (12,000 − 8,000) × 70 %
    check_books_agree(session, w)


def test_policy_year_follows_settlement_time_in_shanghai(session: Session) -> None:
    w = world(session)
    # 2024-12-31 17:00 UTC is 2025-01-01 01:00 in Shanghai: inside the 2025 product
    at = dt.datetime(2024, 12, 31, 17, 0, tzinfo=dt.UTC)
    s = service.settle(session, w.his, settle_in(w, "m1", setl_time=at, **BILL), KEY).settlement
    assert (s.policy_year, s.business_date) == (2025, dt.date(2025, 1, 1))
    # 2024-12-31 15:00 UTC is 23:00 in Shanghai on 31 December 2024: not covered
    with pytest.raises(NotEnrolled):
        service.settle(
            session,
            w.his,
            settle_in(
                w, "m2", setl_id="S2", setl_time=dt.datetime(2024, 12, 31, 15, 0, tzinfo=dt.UTC), **BILL
            ),
            KEY,
        )


def test_refusals(session: Session) -> None:
    w = world(session)
    with pytest.raises(BillInvalid):
        service.settle(session, w.his, settle_in(w, "m1", medfee_sumamt="1.00", **BILL), KEY)
    with pytest.raises(PersonUnknown):  # never enrolled in anything (test_lifecycle: the two cases apart)
        service.settle(session, w.his, settle_in(w, "m2", certno=resident_id(seq=777), **BILL), KEY)
    other = make_org(session, OrgKind.HOSPITAL)
    with pytest.raises(HospitalNotInScheme):
        service.settle(
            session, principal(session, other, Role.HOSPITAL_SYSTEM), settle_in(w, "m3", **BILL), KEY
        )
    s = service.settle(session, w.his, settle_in(w, "m4", **BILL), KEY).settlement
    with pytest.raises(SettlementNotFound):  # another hospital's settlement is not found
        service.get_settlement(session, principal(session, other, Role.HOSPITAL_SYSTEM), s.id)
    assert service.get_settlement(session, w.insurer_staff, s.id).id == s.id


def test_eligibility_shows_remaining_deductible_and_caps(session: Session) -> None:
    w = world(session)
    service.settle(
        session,
        w.his,
        settle_in(w, "m1", auto_confirm=True, inscp_scp_amt="30000.00", hifp_pay="18000.00"),
        KEY,
    )
    [e] = service.eligibility(session, w.his, EligibilityIn(certno=w.certno, on=dt.date(2025, 6, 2)), KEY)  # type: ignore[arg-type]
    assert e.eligible and e.policy_year == 2025
    assert e.accumulators.deductibles[0].remaining == D("8000.00")
    assert e.accumulators.overall.remaining == D("2000000.00")
    assert (
        service.eligibility(session, w.his, EligibilityIn(certno=w.certno, on=dt.date(2026, 1, 1)), KEY) == []
    )  # type: ignore[arg-type]


def test_special_drug_lines_are_checked(session: Session) -> None:
    w = world(session)
    lines = [
        FeeLine(
            feedetl_sn="1",
            med_list_codg="L01FF02",
            det_item_fee_sumamt=D("30000.00"),
            fulamt_ownpay_amt=D("30000.00"),
        ),
        FeeLine(
            feedetl_sn="2", med_list_codg="X000", det_item_fee_sumamt=D("5000.00"), inscp_scp_amt=D("5000.00")
        ),
    ]
    s = service.settle(
        session,
        w.his,
        settle_in(
            w,
            "m1",
            lines=lines,
            diag_codes=["C50.9"],
            fulamt_ownpay_amt="30000.00",
            inscp_scp_amt="5000.00",
            hifp_pay="3000.00",
        ),
        KEY,
    ).settlement
    # refused by the special-drug liability, the line stays an out-of-list cost: in-list 5,000 − 3,000 = 2,000
    # takes 2,000 of the deductible, out-of-list (30,000 − 18,000) × 70 % = 8,400.00
    assert s.payout == D("8400.00")
    assert s.outcome is not None and s.outcome.not_paid[0].code == "drug_outside_indication"


def test_insufficient_prepaid_balance_follows_the_fallback(session: Session) -> None:
    arrears = world(session, deposit="1000.00", threshold="500.00")
    s = service.settle(
        session, arrears.his, settle_in(arrears, "m1", auto_confirm=True, **BILL), KEY
    ).settlement
    assert s.status == "settled" and s.outcome is not None
    [ins] = s.outcome.insurers
    assert (ins.from_prepaid, ins.in_arrears) == (D("1000.00"), D("3200.00"))
    book = service.get_book(session, arrears.insurer_staff, arrears.book_id)
    assert (book.balances["prepaid"], book.balances["payable"]) == (D("0.00"), D("-3200.00"))
    alerts = service.list_alerts(session, arrears.insurer_staff, True, 50, 0).items
    assert {a.kind for a in alerts} == {"low_balance", "overdraw_fallback"}
    check_books_agree(session, arrears)

    defer = world(session, deposit="1000.00", fallback="defer", certno=resident_id(seq=321))
    d = service.settle(session, defer.his, settle_in(defer, "m1", auto_confirm=True, **BILL), KEY).settlement
    assert (d.status, d.payout, d.cash_after) == ("deferred", D("0.00"), d.cash_before)
    assert accumulators(session, defer) == {}
    assert service.get_book(session, defer.insurer_staff, defer.book_id).balances["prepaid"] == D("1000.00")
    # the deferred claim is then paid by the insurer as a post-discharge claim, once
    paid = service.transfer_to_post_discharge(session, defer.insurer_staff, d.id, "pd-1")
    assert (paid.settlement.channel, paid.settlement.status, paid.settlement.payout) == (
        "post_discharge",
        "settled",
        D("4200.00"),
    )
    assert service.transfer_to_post_discharge(session, defer.insurer_staff, d.id, "pd-1").replayed
    assert service.get_settlement(session, defer.insurer_staff, d.id).status == "transferred"


def test_arrears_book_and_period_settlement(session: Session) -> None:
    from jinyu.claim.schemas import LedgerEntryIn

    w = world(session, mode="arrears")
    service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY)
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert book.balances["payable"] == D("-4200.00")
    j = service.post_entry(
        session, w.insurer_staff, w.book_id, LedgerEntryIn(kind="period_settlement", reference="2025-06")
    )
    assert j.amount == D("4200.00")
    again = service.post_entry(
        session, w.insurer_staff, w.book_id, LedgerEntryIn(kind="period_settlement", reference="2025-06")
    )
    assert again.id == j.id
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert (book.balances["payable"], book.balances["bank"], book.balances["claims"]) == (
        D("0.00"),
        D("-4200.00"),
        D("4200.00"),
    )
    check_books_agree(session, w)


def test_post_discharge_claim_for_a_hospital_outside_direct_settlement(session: Session) -> None:
    from jinyu.claim.schemas import PostDischargeIn

    w = world(session)
    outside = make_org(session, OrgKind.HOSPITAL)  # no book: not in direct settlement
    base = settle_in(w, "x", **BILL)
    claim = PostDischargeIn(
        msg_id="pd-1", hospital_id=outside.id, certno=base.certno, setlinfo=base.setlinfo, lines=base.lines
    )
    paid = service.post_discharge(session, w.insurer_staff, claim, KEY)
    assert (paid.settlement.channel, paid.settlement.status, paid.settlement.payout) == (
        "post_discharge",
        "settled",
        D("4200.00"),
    )
    assert service.post_discharge(session, w.insurer_staff, claim, KEY).replayed
    [book] = service.list_books(session, w.insurer_staff, outside.id, 2025, 10, 0).items
    assert (book.mode, book.balances["claims"], book.balances["bank"]) == (
        "none",
        D("4200.00"),
        D("-4200.00"),
    )
    assert accumulators(session, w)[("overall", "overall")] == D("4200.00")
    # at this hospital the same visit is already paid (409); another visit is refused: not in the scheme
    outside_his = principal(session, outside, Role.HOSPITAL_SYSTEM)
    with pytest.raises(VisitAlreadySettled):
        service.settle(session, outside_his, settle_in(w, "m9", **BILL), KEY)
    with pytest.raises(HospitalNotInScheme):
        service.settle(session, outside_his, settle_in(w, "m8", mdtrt_id="MDTRT-8", **BILL), KEY)


def test_the_low_balance_alert_states_yuan_with_separators(session: Session) -> None:
    # 1,000,000.00 deposited, the alert line at 999,000.00; the bill pays 1,000.00 + 3,200.00 = 4,200.00
    w = world(session, deposit="1000000.00", threshold="999000.00")
    service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY)
    [alert] = [
        a for a in service.list_alerts(session, w.insurer_staff, True, 50, 0).items if a.kind == "low_balance"
    ]
    assert "预付金余额 ¥995,800.00 低于预警线 ¥999,000.00" in alert.message
    assert "prepaid balance ¥995,800.00 below the alert threshold ¥999,000.00" in alert.message
