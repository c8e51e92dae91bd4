"""谁使用了我的数据: an enterprise sees other organisations' reads of its data, never its own or another
enterprise's; only the data's owner and regulators may ask."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from jinyu.audit import disclosure
from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Role
from jinyu.core.errors import PermissionDenied
from tests.fixtures.auth import make_org, principal


def test_reads_of_an_enterprise_by_others_newest_first(session: Session) -> None:
    ent, other_ent = make_org(session, OrgKind.ENTERPRISE), make_org(session, OrgKind.ENTERPRISE)
    clerk = principal(session, ent, Role.ENTERPRISE_ADMIN)
    bank = principal(session, make_org(session, OrgKind.BANK_HEAD_OFFICE), Role.BANK_HQ_RISK)
    regulator = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    for who, action, subject in (
        (bank, "credit.card.view", ent.id),
        (clerk, "credit.card.view", ent.id),  # its own look: not a disclosure
        (bank, "govdata.summary.read", other_ent.id),  # another enterprise's data
        (regulator, "govdata.summary.read", ent.id),
    ):
        audit.record(session, who, action=action, subject_type="enterprise", subject_ids=[subject],
                     purpose="credit_assessment")  # fmt: skip
    reads = disclosure.reads_of_org(session, clerk, ent.id)
    assert [(r.reader_org_id, r.action) for r in reads] == [
        (regulator.org_id, "govdata.summary.read"),
        (bank.org_id, "credit.card.view"),
    ]
    assert reads[1].purpose == "credit_assessment" and reads[1].reader == bank.username
    assert len(disclosure.reads_of_org(session, regulator, ent.id)) == 2


@pytest.mark.parametrize("role_kind", [("other", Role.ENTERPRISE_ADMIN), ("bank", Role.BANK_HQ_RISK)])
def test_only_the_owner_or_a_regulator_may_ask(session: Session, role_kind: tuple[str, Role]) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    kind = OrgKind.ENTERPRISE if role_kind[0] == "other" else OrgKind.BANK_HEAD_OFFICE
    stranger = principal(session, make_org(session, kind), role_kind[1])
    with pytest.raises(PermissionDenied):
        disclosure.reads_of_org(session, stranger, ent.id)
