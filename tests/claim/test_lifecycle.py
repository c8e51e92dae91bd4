"""The settlement lifecycle on a real database (SQLite and PostgreSQL): one settlement in force per hospital
visit, re-settlement judged after the cancellation, replays that say what happened since, and a person the
platform does not know told apart from a known one without cover.

Expected amounts are worked out by hand from the sample product (deductible 20,000, out-of-list 70 %)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.errors import (
    NotEnrolled,
    PersonUnknown,
    ProductDefinitionInvalid,
    VisitAlreadySettled,
)
from jinyu.claim.models import ClaimEnrollment, ClaimSettlement
from jinyu.claim.schemas import CancelIn, EnrollmentIn, PostDischargeIn
from jinyu.core.db import new_id
from tests.claim.factories import KEY, D, World, sample_product, settle_in, world
from tests.fixtures.auth import resident_id

# 40,000 in-list of which BMI paid 24,000, 10,000 out-of-list: 16,000 + 10,000 against the 20,000 deductible
# → out-of-list (26,000 − 20,000) × 70 % = 4,200. On top of a used deductible the same bill pays
# in-list 16,000 × 70 % = 11,200 and out-of-list 10,000 × 70 % = 7,000: 18,200.
BILL = {"inscp_scp_amt": "40000.00", "fulamt_ownpay_amt": "10000.00", "hifp_pay": "24000.00"}


def used(session: Session, w: World) -> dict[tuple[str, str], Decimal]:
    e = session.scalars(select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code)).one()
    return {k: a.amount for k, a in repo.accumulators(session, e.id).items() if a.amount}


def in_force(session: Session, w: World) -> list[tuple[str, Decimal]]:
    rows = session.scalars(
        select(ClaimSettlement).where(ClaimSettlement.status.in_(("pending", "settled")))
    ).all()
    return sorted((r.setl_id, r.payout) for r in rows if r.product_code == w.product_code)


# ------------------------------------------------------------------------------------------------ one per visit


@pytest.mark.parametrize("first_confirmed", [True, False])
def test_a_second_settlement_of_a_visit_in_force_is_refused_naming_the_first(
    session: Session, first_confirmed: bool
) -> None:
    w = world(session)
    first = service.settle(
        session, w.his, settle_in(w, "m1", auto_confirm=first_confirmed, **BILL), KEY
    ).settlement
    with pytest.raises(VisitAlreadySettled) as refused:
        service.settle(session, w.his, settle_in(w, "m2", setl_id="SETL-2", auto_confirm=True, **BILL), KEY)
    err = refused.value
    assert err.status == 409 and err.code == "visit_already_settled"
    assert err.extra["existing"] == {
        "id": first.id,
        "setl_id": "SETL-1",
        "status": "settled" if first_confirmed else "pending",
        "channel": "direct",
    }
    assert [f.field for f in err.fields] == ["setlinfo.mdtrt_id"]
    assert in_force(session, w) == [("SETL-1", D("4200.00"))]
    assert used(session, w)[("deductible", "annual")] == D("20000.00")


def test_a_re_settlement_is_judged_after_the_cancellation(session: Session) -> None:
    """The issue's case one after the other: settle, re-settle (refused), cancel, re-settle (paid once, on
    the deductible the cancellation gave back)."""
    w = world(session)
    s1 = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    again = settle_in(w, "m2", setl_id="SETL-2", auto_confirm=True, **BILL)
    with pytest.raises(VisitAlreadySettled):
        service.settle(session, w.his, again, KEY)
    service.cancel(session, w.his, s1.id, CancelIn(msg_id="c1", reason="重新结算"))
    assert used(session, w) == {}
    s2 = service.settle(session, w.his, again, KEY).settlement
    assert (s2.status, s2.payout) == ("settled", D("4200.00"))  # not 18,200: the deductible applies again
    assert in_force(session, w) == [("SETL-2", D("4200.00"))]
    assert used(session, w) == {
        ("deductible", "annual"): D("20000.00"),
        ("liability", "outlist"): D("4200.00"),
        ("overall", "overall"): D("4200.00"),
    }


def test_a_deferred_settlement_does_not_hold_the_visit(session: Session) -> None:
    w = world(session, deposit="1000.00", fallback="defer")  # too little prepaid money: deferred
    first = service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY).settlement
    assert first.status == "deferred"
    second = service.settle(session, w.his, settle_in(w, "m2", setl_id="SETL-2", **BILL), KEY).settlement
    assert second.status == "deferred"


def test_interim_settlements_when_the_product_allows_them(session: Session) -> None:
    w = world(session, interim_settlements=True)
    a = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    b = service.settle(
        session, w.his, settle_in(w, "m2", setl_id="SETL-2", auto_confirm=True, **BILL), KEY
    ).settlement
    assert (a.payout, b.payout) == (D("4200.00"), D("18200.00"))  # the second one on the used deductible
    assert in_force(session, w) == [("SETL-1", D("4200.00")), ("SETL-2", D("18200.00"))]


def test_the_interim_flag_is_validated() -> None:
    assert sample_product().interim_settlements is False
    assert sample_product(interim_settlements=True).interim_settlements is True
    with pytest.raises(ProductDefinitionInvalid) as bad:
        sample_product(interim_settlements="yes")
    assert [f.field for f in bad.value.fields] == ["interim_settlements"]


def test_the_database_refuses_a_second_settlement_in_force_of_a_visit(session: Session) -> None:
    """The guard below the service: a partial unique index on (hospital, mdtrt_id) of settlements in force."""
    w = world(session)
    first = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    row = session.get(ClaimSettlement, first.id)
    assert row is not None

    def copy(setl_id: str, **changes: object) -> ClaimSettlement:
        values = {c.key: getattr(row, c.key) for c in ClaimSettlement.__table__.columns}
        return ClaimSettlement(**{**values, "id": new_id(), "setl_id": setl_id, **changes})

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(copy("SETL-2"))
        session.flush()
    with session.begin_nested():  # not in force, or interim: allowed
        session.add_all([copy("SETL-3", status="cancelled"), copy("SETL-4", interim=True)])
        session.flush()


def test_post_discharge_claim_of_a_visit_settled_at_discharge_is_refused(session: Session) -> None:
    w = world(session)
    first = service.settle(session, w.his, settle_in(w, "m1", auto_confirm=True, **BILL), KEY).settlement
    base = settle_in(w, "x", setl_id="SETL-PD", **BILL)
    claim = PostDischargeIn(
        msg_id="pd-1", hospital_id=w.hospital.id, certno=base.certno, setlinfo=base.setlinfo, lines=[]
    )
    with pytest.raises(VisitAlreadySettled) as refused:
        service.post_discharge(session, w.insurer_staff, claim, KEY)
    assert refused.value.extra["existing"]["id"] == first.id


# ------------------------------------------------------------------------------------------------ replays


def test_replaying_a_settlement_cancelled_since_answers_the_first_answer(session: Session) -> None:
    w = world(session)
    request = settle_in(w, "m1", auto_confirm=True, **BILL)
    first = service.settle(session, w.his, request, KEY).settlement
    service.cancel(session, w.his, first.id, CancelIn(msg_id="c1", reason="患者要求重新结算"))
    for replay in (request, request.model_copy(update={"msg_id": "m1-again"})):  # by message id, by key
        out = service.settle(session, w.his, replay, KEY)
        assert out.replayed
        body = out.settlement
        assert body.model_dump(exclude={"since"}) == first.model_dump(exclude={"since"})
        assert (body.status, body.payout) == ("settled", D("4200.00"))
        assert body.since is not None
        assert (body.since.status, body.since.note) == ("cancelled", "患者要求重新结算")
        assert body.since.at is not None
    assert first.since is None
    assert service.get_settlement(session, w.his, first.id).status == "cancelled"  # the state now


def test_replaying_a_pending_settlement_confirmed_since(session: Session) -> None:
    w = world(session)
    request = settle_in(w, "m1", **BILL)
    first = service.settle(session, w.his, request, KEY).settlement
    service.confirm(session, w.his, first.id)
    body = service.settle(session, w.his, request, KEY).settlement
    assert body.status == "pending" and body.confirmed_at is None
    assert body.since is not None and body.since.status == "settled"
    untouched = service.settle(session, w.his, settle_in(w, "m2", mdtrt_id="V2", setl_id="S2", **BILL), KEY)
    replay = service.settle(session, w.his, settle_in(w, "m2", mdtrt_id="V2", setl_id="S2", **BILL), KEY)
    assert replay.settlement == untouched.settlement and replay.settlement.since is None


# ------------------------------------------------------------------------------------------------ who


def test_an_unknown_person_and_a_known_one_without_cover_are_different_errors(session: Session) -> None:
    w = world(session)
    with pytest.raises(PersonUnknown) as unknown:
        service.settle(session, w.his, settle_in(w, "m1", certno=resident_id(seq=778), **BILL), KEY)
    # the insured person, on a day outside the product's period
    late = dt.datetime(2026, 3, 1, 10, 0)
    with pytest.raises(NotEnrolled) as uncovered:
        service.settle(session, w.his, settle_in(w, "m2", setl_time=late, **BILL), KEY)
    assert (unknown.value.code, uncovered.value.code) == ("person_unknown", "not_enrolled")
    assert unknown.value.title != uncovered.value.title
    assert [f.field for f in unknown.value.fields] == [f.field for f in uncovered.value.fields] == ["certno"]
    # enrolled elsewhere counts as known
    other = world(session)
    service.enroll(
        session,
        other.insurer_staff,
        EnrollmentIn(product_code=other.product_code, certno=resident_id(seq=779)),  # type: ignore[arg-type]
        KEY,
    )
    with pytest.raises(NotEnrolled):
        service.settle(
            session,
            w.his,
            settle_in(w, "m3", certno=resident_id(seq=779), **BILL).model_copy(
                update={"product_code": w.product_code}
            ),
            KEY,
        )


def test_every_error_of_the_settlement_path_names_its_field(session: Session) -> None:
    from jinyu.claim.errors import (
        BillInvalid,
        HospitalNotInScheme,
        IdempotencyConflict,
        SettlementNotFound,
        SettlementStateConflict,
    )
    from jinyu.core.auth import OrgKind, Role
    from jinyu.core.errors import JinyuError
    from tests.fixtures.auth import make_org, principal

    w = world(session)
    first = service.settle(session, w.his, settle_in(w, "m1", **BILL), KEY).settlement
    outsider = principal(session, make_org(session, OrgKind.HOSPITAL), Role.HOSPITAL_SYSTEM)
    cases: list[tuple[type[JinyuError], str, object]] = [
        (BillInvalid, "setlinfo.medfee_sumamt", lambda: settle_in(w, "e1", medfee_sumamt="1.00", **BILL)),
        (PersonUnknown, "certno", lambda: settle_in(w, "e2", certno=resident_id(seq=780), **BILL)),
        (IdempotencyConflict, "msg_id", lambda: settle_in(w, "m1", setl_id="OTHER", **BILL)),
        (IdempotencyConflict, "setlinfo.setl_id", lambda: settle_in(w, "e3", **{**BILL, "hifp_pay": "1.00"})),
        (VisitAlreadySettled, "setlinfo.mdtrt_id", lambda: settle_in(w, "e4", setl_id="SETL-9", **BILL)),
    ]
    for error, field, request in cases:
        with pytest.raises(error) as raised:
            service.settle(session, w.his, request(), KEY)  # type: ignore[operator]
        assert field in [f.field for f in raised.value.fields], (error, raised.value.fields)
    with pytest.raises(HospitalNotInScheme) as raised:
        service.settle(session, outsider, settle_in(w, "e5", mdtrt_id="V5", setl_id="S5", **BILL), KEY)
    assert [f.field for f in raised.value.fields] == ["product_code"]
    with pytest.raises(SettlementNotFound) as raised:
        service.cancel(session, outsider, first.id, CancelIn(msg_id="c0", reason="越权"))
    assert [f.field for f in raised.value.fields] == ["settlement_id"]
    service.cancel(session, w.his, first.id, CancelIn(msg_id="c1", reason="撤销"))
    with pytest.raises(SettlementStateConflict) as raised:
        service.confirm(session, w.his, first.id)
    assert [f.field for f in raised.value.fields] == ["settlement_id"]
