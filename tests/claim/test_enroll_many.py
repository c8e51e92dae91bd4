"""An insurer's enrollment list (`claim.service.enroll_many`, what `make demo` enrolls its product year's
population with): each ID validated and kept as token and mask, persons already enrolled skipped, the product's
premium on each, one audit entry per 1,000; and the claims report's loss ratio divides the net payouts by the
premium of every enrollment, checked against hand-computed figures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.claim import service
from jinyu.claim.errors import ProductNotFound
from jinyu.claim.models import ClaimEnrollment
from jinyu.core.auth import OrgKind, Role
from jinyu.core.errors import InvalidInput
from jinyu.core.privacy import mask
from tests.claim.factories import KEY, settle_in, world
from tests.fixtures.auth import make_org, principal, resident_id


def test_a_list_is_enrolled_once_each_at_the_products_premium(session: Session) -> None:
    w = world(session)
    new = [resident_id("19700101", seq=n) for n in (201, 202, 203)]
    # a person twice in the list, and the person the world enrolled already: skipped, not refused
    added = service.enroll_many(session, w.insurer_staff, w.product_code, [*new, new[0], w.certno], KEY)
    assert added == 3
    rows = session.scalars(
        select(ClaimEnrollment).where(ClaimEnrollment.product_code == w.product_code)
    ).all()
    assert len(rows) == 4
    assert {r.premium for r in rows} == {Decimal("69.00")}  # the sample product's premium
    assert {r.id_masked for r in rows if r.id_masked != mask(w.certno, 6, 4)} == {mask(c, 6, 4) for c in new}
    assert all(r.id_masked.startswith("500101********") for r in rows)
    assert all(len(r.person_token) > 18 and "19700101" not in r.person_token for r in rows)
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "claim.enrollment.create").order_by(AuditEntry.seq)
    ).all()
    assert len(entries) == 2  # the world's own enrollment, then the list's one entry
    assert len(json.loads(entries[-1].subject_ids)) == 3 and json.loads(entries[-1].detail)["count"] == 3
    assert service.enroll_many(session, w.insurer_staff, w.product_code, new, KEY) == 0  # idempotent


def test_a_bad_id_refuses_the_whole_list_naming_its_place(session: Session) -> None:
    w = world(session)
    bad = resident_id("19700101", seq=301)[:-1] + "0"  # a wrong check digit
    good = resident_id("19700101", seq=302)
    if bad[-1] == good[-1]:
        bad = bad[:-1] + "1"
    with pytest.raises(InvalidInput) as refused:
        service.enroll_many(session, w.insurer_staff, w.product_code, [good, bad], KEY)
    assert "certnos[1]" in str(refused.value.fields)
    count = (
        select(func.count())
        .select_from(ClaimEnrollment)
        .where(ClaimEnrollment.product_code == w.product_code)
    )
    assert session.scalar(count) == 1


def test_another_insurers_product_is_not_found(session: Session) -> None:
    w = world(session)
    other = principal(session, make_org(session, OrgKind.INSURER), Role.INSURER_STAFF)
    with pytest.raises(ProductNotFound):
        service.enroll_many(session, other, w.product_code, [resident_id("19700101", seq=401)], KEY)


def test_the_loss_ratio_is_net_payouts_over_the_premium_of_every_enrollment(session: Session) -> None:
    """One stay of in-list 80,000.00 (BMI paid 60 %: 48,000.00) and out-of-list 9,000.00 under the sample
    product: 70 % of (32,000.00 + 9,000.00 - the 20,000.00 deductible) = 14,700.00. Four enrollments at 69.00 =
    276.00 of premium: 14,700.00 / 276.00 = 53.26087 -> 53.2609 (5,326.09 %). With 11,000 enrolled (759,000.00)
    the same payout reads 14,700.00 / 759,000.00 = 0.019368 -> 0.0194."""
    w = world(session)
    service.enroll_many(
        session,
        w.insurer_staff,
        w.product_code,
        [resident_id("19700101", seq=n) for n in (501, 502, 503)],
        KEY,
    )
    bill = settle_in(
        w, "m1", auto_confirm=True, inscp_scp_amt="80000.00", hifp_pay="48000.00", fulamt_ownpay_amt="9000.00"
    )
    assert service.settle(session, w.his, bill, KEY).settlement.payout == Decimal("14700.00")
    report = service.report(session, w.insurer_staff, "insurer")
    assert report.total_payout == Decimal("14700.00") and report.total_premium == Decimal("276.00")
    assert report.loss_ratio == Decimal("53.2609")
    assert [(r.key, r.premium, r.loss_ratio) for r in report.rows] == [
        (w.insurer.id, Decimal("276.00"), Decimal("53.2609"))
    ]
    more = [resident_id(f"19{80 + n // 999}0101", seq=1 + n % 999) for n in range(11_000 - 4)]
    assert service.enroll_many(session, w.insurer_staff, w.product_code, more, KEY) == 10_996
    report = service.report(session, w.insurer_staff, "insurer")
    assert report.total_premium == Decimal("759000.00") and report.loss_ratio == Decimal("0.0194")
