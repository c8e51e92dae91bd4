from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from jinyu.core.errors import PermissionDenied
from jinyu.risk.inquiries import inquiry_stats, record_inquiry
from tests.fixtures.auth import make_org, principal


def test_inquiries_are_counted_by_bank_month_and_kind(session: Session) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="甲银行")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    hq, officer = (
        principal(session, bank, Role.BANK_HQ_RISK),
        principal(session, branch, Role.BANK_BRANCH_OFFICER),
    )
    record_inquiry(
        session,
        hq,
        kind="return_flow",
        subject="L1",
        verdict="risky",
        risky=True,
        risky_amount=Decimal("1000000.005"),
    )
    record_inquiry(session, officer, kind="return_flow", subject="L2", verdict="clean", risky=False)
    record_inquiry(
        session,
        officer,
        kind="return_flow",
        subject="L3",
        verdict="risky",
        risky=True,
        risky_amount=Decimal("0.10"),
    )
    record_inquiry(session, hq, kind="statement", subject="A1", verdict="genuine", risky=False)
    regulator = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    stats = {s.kind: s for s in inquiry_stats(session, regulator, None, None) if s.bank_org_id == bank.id}
    assert (stats["return_flow"].inquiries, stats["return_flow"].risky) == (3, 2)
    assert stats["return_flow"].risky_amount == Decimal("1000000.11")  # each amount rounded to the fen first
    assert (stats["statement"].inquiries, stats["statement"].risky_amount) == (1, Decimal("0.00"))
    assert stats["statement"].bank_name == "甲银行"
    with pytest.raises(PermissionDenied):
        inquiry_stats(session, hq, None, None)


def test_recorded_inquiry_is_stored_whole(session: Session) -> None:
    """The row written by one Core INSERT reads back with every field, as the ORM's insert stored it."""
    from jinyu.core.clock import local
    from jinyu.risk.models import RiskInquiry

    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="乙银行")
    hq = principal(session, bank, Role.BANK_HQ_RISK)
    first = record_inquiry(
        session,
        hq,
        kind="misuse",
        subject="L" * 200,
        verdict="risky",
        risky=True,
        risky_amount=Decimal("12.345"),
        detail={"hops": 3, "data_version": "v1"},
    )
    second = record_inquiry(session, hq, kind="statement", subject="A9", verdict="genuine", risky=False)
    assert first != second and len(first) == 32
    session.expire_all()
    row = session.get(RiskInquiry, first)
    assert row is not None
    assert (row.kind, row.tenant_id, row.org_id, row.actor_id) == (
        "misuse",
        hq.tenant_id,
        hq.org_id,
        hq.subject_id,
    )
    assert row.subject == "L" * 128  # cut to the column's length
    assert (row.verdict, row.risky, row.risky_amount) == (
        "risky",
        True,
        Decimal("12.35"),
    )  # half up to the fen
    assert row.detail == {"hops": 3, "data_version": "v1"}
    assert row.month == local(row.at).strftime("%Y-%m")
    other = session.get(RiskInquiry, second)
    assert other is not None and other.detail == {} and other.risky_amount == Decimal("0")
