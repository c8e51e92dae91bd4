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
