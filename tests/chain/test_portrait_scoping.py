"""The set-based consent lookup of a portrait batch keeps the scoping of the per-enterprise lookup it replaced:
a bank receives exactly the enterprises whose grants in force to it cover every portrait scope for the
purpose. Checked against hand-expected answers and against `require_consent` per enterprise and scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from jinyu.chain import portraits
from jinyu.consent import service as consent
from jinyu.consent.errors import ConsentMissing
from jinyu.consent.models import Grant
from jinyu.consent.rules import Purpose
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from tests.fixtures.auth import make_org, principal

PURPOSE = Purpose.CREDIT_ASSESSMENT
T = TypeVar("T")
ALL = ["registration", "tax", "headcount", "judicial", "accounts"]


def _grant(session: Session, ent: str, bank: str, scopes: list[str], **change: object) -> Grant:
    now = utcnow()
    values: dict[str, object] = {
        "enterprise_org_id": ent,
        "grantee_org_id": bank,
        "scopes": scopes,
        "purpose": "credit_assessment",
        "valid_from": now - dt.timedelta(days=1),
        "valid_until": now + dt.timedelta(days=30),
        "state": "active",
        "created_by": "test",
    }
    grant = Grant(**(values | change))
    session.add(grant)
    return grant


def test_only_grants_in_force_covering_every_scope_let_a_member_through(session: Session) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    names = ("full", "split", "none", "expired", "revoked", "future", "other_bank", "purpose", "partial")
    ents = {n: make_org(session, OrgKind.ENTERPRISE) for n in names}
    now = utcnow()
    full = _grant(session, ents["full"].id, bank.id, ALL)
    split_a = _grant(session, ents["split"].id, bank.id, ["registration", "tax"])
    split_b = _grant(session, ents["split"].id, bank.id, ["headcount", "judicial", "accounts"])
    _grant(session, ents["expired"].id, bank.id, ALL, valid_until=now - dt.timedelta(seconds=1))
    _grant(session, ents["revoked"].id, bank.id, ALL, state="revoked", revoked_at=now)
    _grant(session, ents["future"].id, bank.id, ALL, valid_from=now + dt.timedelta(days=1))
    _grant(session, ents["other_bank"].id, other.id, ALL)
    _grant(session, ents["purpose"].id, bank.id, ALL, purpose="loan_review")
    _grant(session, ents["partial"].id, bank.id, ["registration", "tax", "headcount", "judicial"])
    session.flush()
    usccs = [e.code for e in ents.values()] + ["91500000NOTONHUB1"]  # a member never registered on the hub

    expected = {ents["full"].code: [full.id], ents["split"].code: sorted([split_a.id, split_b.id])}
    for caller in (bank, branch):  # a grant to the bank covers its branches
        who = principal(session, caller, Role.BANK_HQ_RISK if caller is bank else Role.BANK_BRANCH_OFFICER)
        found, statements = _counting(session, lambda w=who: portraits.bases(session, w, usccs, PURPOSE))
        assert found == expected
        assert len(statements) == 1  # one query for the whole batch, not one per member
        assert found == _one_by_one(session, who, ents)

    outsider = principal(session, other, Role.BANK_HQ_RISK)
    assert portraits.bases(session, outsider, usccs, PURPOSE) == {
        ents["other_bank"].code: [session.query(Grant.id).filter_by(grantee_org_id=other.id).scalar()]
    }
    regulator = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    assert set(portraits.bases(session, regulator, usccs, PURPOSE)) == set(usccs)


def _counting(session: Session, call: Callable[[], T]) -> tuple[T, list[str]]:
    """The call's result and the SQL statements it sent."""
    statements: list[str] = []

    def listen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(session.bind, "before_cursor_execute", listen)
    try:
        return call(), statements
    finally:
        event.remove(session.bind, "before_cursor_execute", listen)


def _one_by_one(session: Session, who: object, ents: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """The lookup the batch used before: require_consent per enterprise and scope."""
    out = {}
    for org in ents.values():
        try:
            ids = {
                consent.require_consent(session, who, org.id, s, PURPOSE)  # type: ignore[arg-type]
                for s in portraits.PORTRAIT_SCOPES
            }
        except ConsentMissing:
            continue
        out[org.code] = sorted(ids)
    return out
