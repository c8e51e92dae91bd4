"""Daily reconciliation: every record in detail (totals only reported); corrections are new entries; the
same file twice changes nothing; a corrected file never applies a correction twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jinyu.claim import service
from jinyu.claim.models import ClaimLedgerJournal
from jinyu.claim.rules import reconcile as rules
from jinyu.claim.schemas import CancelIn, ReconFileIn, ReconRecord
from tests.claim.factories import KEY, D, World, settle_in, world

DAY = dt.date(2025, 6, 1)
BILL = {"inscp_scp_amt": "40000.00", "fulamt_ownpay_amt": "10000.00", "hifp_pay": "24000.00"}
SMALL = {"inscp_scp_amt": "20000.00", "hifp_pay": "10000.00"}  # after the first: 10,000 × 70 %


def file(*records: tuple[str, str, str, str]) -> ReconFileIn:
    recs = [ReconRecord(mdtrt_id=m, setl_id=s, status=st, payout=D(p)) for m, s, st, p in records]  # type: ignore[arg-type]
    settled = [r for r in recs if r.status == "settled"]
    return ReconFileIn(
        business_date=DAY,
        total_count=len(settled),
        total_payout=sum((r.payout for r in settled), Decimal("0.00")),
        records=recs,
    )


def journals(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ClaimLedgerJournal)) or 0


def test_pure_comparison() -> None:
    ours = [
        rules.Ours(("a", "1"), "s1", "pending", D("10")),
        rules.Ours(("b", "2"), "s2", "pending", D("20")),
        rules.Ours(("c", "3"), "s3", "settled", D("30")),
        rules.Ours(("d", "4"), "s4", "settled", D("40")),
        rules.Ours(("e", "5"), "s5", "settled", D("50")),
        rules.Ours(("f", "6"), "s6", "cancelled", D("60")),
    ]
    theirs = [
        rules.Theirs(("a", "1"), "settled", D("10")),
        rules.Theirs(("c", "3"), "cancelled", D("30")),
        rules.Theirs(("e", "5"), "settled", D("55")),
        rules.Theirs(("f", "6"), "settled", D("60")),
        rules.Theirs(("g", "7"), "settled", D("70")),
    ]
    found = {i.key: i.finding for i in rules.compare(ours, theirs)}
    assert found == {
        ("a", "1"): rules.Finding.CONFIRMED_PENDING,
        ("b", "2"): rules.Finding.VOIDED_PENDING,
        ("c", "3"): rules.Finding.REVERSED,
        ("d", "4"): rules.Finding.OURS_ONLY,
        ("e", "5"): rules.Finding.AMOUNT_MISMATCH,
        ("f", "6"): rules.Finding.STATUS_MISMATCH,
        ("g", "7"): rules.Finding.THEIRS_ONLY,
    }


def test_totals_that_agree_need_no_detail(session: Session) -> None:
    w = world(session)
    s = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    run = service.reconcile(session, w.his, file(("MDTRT-1", "SETL-1", "settled", str(s.payout))))
    assert (run.status, run.totals_match, run.items) == ("matched", True, [])


def test_totals_that_cancel_out_are_still_compared_in_detail(session: Session) -> None:
    """A settlement missing from the file, a ghost of nearly the same amount and a one-fen difference
    elsewhere: 3 records and 18,200.00 on both sides, yet three discrepancies."""
    w = world(session)
    bills = [("m1", "MDTRT-1", "SETL-1", BILL), ("m2", "V2", "S2", SMALL), ("m3", "V3", "S3", SMALL)]
    paid = [
        service.settle(
            session, w.his, settle_in(w, m, mdtrt_id=v, setl_id=k, auto_confirm=True, **b), KEY
        ).settlement.payout
        for m, v, k, b in bills
    ]
    assert paid == [D("4200.00"), D("7000.00"), D("7000.00")]  # hand-computed: see BILL and SMALL
    daily = file(
        ("MDTRT-1", "SETL-1", "settled", "4200.00"),
        ("V2", "S2", "settled", "7000.01"),  # one fen more
        ("V9", "S9", "settled", "6999.99"),  # a ghost; V3/S3 is missing
    )
    assert (daily.total_count, daily.total_payout) == (3, D("18200.00"))
    before = journals(session)
    run = service.reconcile(session, w.his, daily)
    assert (run.status, run.totals_match, run.corrections, run.discrepancies) == ("discrepancies", True, 0, 3)
    assert {(i.setl_id, i.finding, i.our_amount, i.their_amount) for i in run.items} == {
        ("S2", "amount_mismatch", D("7000.00"), D("7000.01")),
        ("S3", "ours_only", D("7000.00"), None),
        ("S9", "theirs_only", None, D("6999.99")),
    }
    assert journals(session) == before  # flagged for people, nothing corrected


def settle_three(session: Session, w: World) -> tuple[str, str, str]:
    a = service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY).settlement  # pending, confirmed later
    b = service.settle(
        session, w.his, settle_in(w, "m2", mdtrt_id="V2", setl_id="S2", **SMALL), KEY
    ).settlement
    c = service.settle(
        session, w.his, settle_in(w, "m3", mdtrt_id="V3", setl_id="S3", auto_confirm=True, **SMALL), KEY
    ).settlement
    return a.id, b.id, c.id


def test_detail_corrections_and_running_twice_changes_nothing(session: Session) -> None:
    w = world(session)
    a, b, c = settle_three(session, w)
    # The hospital applied a (its confirmation was lost), never applied b (it settled BMI alone), and
    # cancelled c (the cancellation was lost).
    daily = file(("MDTRT-1", "SETL-1", "settled", "4200.00"), ("V3", "S3", "cancelled", "7000.00"))
    before = journals(session)
    run = service.reconcile(session, w.his, daily)
    assert (run.status, run.totals_match, run.corrections, run.discrepancies) == ("corrected", False, 3, 0)
    assert {(i.setl_id, i.finding) for i in run.items} == {
        ("SETL-1", "confirmed_pending"),
        ("S2", "voided_pending"),
        ("S3", "reversed"),
    }
    assert journals(session) == before + 3
    statuses = {x: service.get_settlement(session, w.his, x).status for x in (a, b, c)}
    assert statuses == {a: "settled", b: "voided", c: "cancelled"}
    book = service.get_book(session, w.insurer_staff, w.book_id)
    assert (book.balances["claims"], book.balances["held"]) == (D("4200.00"), D("0.00"))
    [elig] = service.eligibility(session, w.his, _elig(w), KEY)
    assert elig.accumulators.overall.paid == D("4200.00")  # b and c gave back what they used

    again = service.reconcile(session, w.his, daily)
    assert again.id == run.id and journals(session) == before + 3
    # A re-sent, corrected file is a new run against the corrected state: totals agree now, nothing changes.
    corrected = file(
        ("MDTRT-1", "SETL-1", "settled", "4200.00"),
        ("V3", "S3", "cancelled", "7000.00"),
        ("V2", "S2", "cancelled", "0.00"),
    )
    third = service.reconcile(session, w.his, corrected)
    assert third.id != run.id and third.status == "matched" and journals(session) == before + 3


def test_discrepancies_are_flagged_not_corrected(session: Session) -> None:
    w = world(session)
    s = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    daily = file(("MDTRT-1", "SETL-1", "settled", "4100.00"), ("V9", "S9", "settled", "99.00"))
    before = journals(session)
    run = service.reconcile(session, w.his, daily)
    assert run.status == "discrepancies" and run.corrections == 0
    assert {(i.setl_id, i.finding) for i in run.items} == {
        ("SETL-1", "amount_mismatch"),
        ("S9", "theirs_only"),
    }
    assert journals(session) == before
    assert service.get_settlement(session, w.his, s.id).status == "settled"


def test_a_file_that_does_not_add_up_is_refused(session: Session) -> None:
    import pytest

    from jinyu.claim.errors import ReconciliationFileInvalid

    w = world(session)
    bad = file(("V1", "S1", "settled", "10.00"))
    bad.total_payout = D("11.00")
    with pytest.raises(ReconciliationFileInvalid):
        service.reconcile(session, w.his, bad)


def test_cancel_after_reconciliation_is_a_new_entry(session: Session) -> None:
    w = world(session)
    s = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    service.reconcile(session, w.his, file(("MDTRT-1", "SETL-1", "settled", "4200.00")))
    before = journals(session)
    service.cancel(session, w.his, s.id, CancelIn(msg_id="c1", reason="次日撤销"))
    assert journals(session) == before + 1
    run = service.reconcile(session, w.his, file(("MDTRT-1", "SETL-1", "cancelled", "4200.00")))
    assert run.status == "matched"


def _elig(w: World):  # type: ignore[no-untyped-def]
    from jinyu.claim.schemas import EligibilityIn

    return EligibilityIn(certno=w.certno, on=DAY)  # type: ignore[arg-type]
