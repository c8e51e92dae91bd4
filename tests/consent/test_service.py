from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from jinyu.consent import service
from jinyu.consent.errors import ConsentMissing, GrantAlreadyRevoked, GrantNotFound, InvalidGrant
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate, GrantRevoke
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.core.errors import PermissionDenied
from tests.fixtures.auth import make_org, principal


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    ent = make_org(session, OrgKind.ENTERPRISE)
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    return {
        "ent": ent,
        "ent_admin": principal(session, ent, Role.ENTERPRISE_ADMIN),
        "bank_hq": principal(session, bank, Role.BANK_HQ_RISK),
        "branch": principal(session, branch, Role.BANK_BRANCH_OFFICER),
        "other": principal(session, other, Role.BANK_HQ_RISK),
        "bank": bank,
        "branch_org": branch,
    }


def _grant(session: Session, w: dict, **kw: object) -> object:  # type: ignore[type-arg]
    data = {
        "grantee_org_id": w["branch_org"].id,
        "scopes": [Scope.TAX],
        "purpose": Purpose.CREDIT_ASSESSMENT,
        "valid_until": utcnow() + dt.timedelta(days=30),
        **kw,
    }
    return service.grant(session, w["ent_admin"], GrantCreate(**data))  # type: ignore[arg-type]


def test_grant_to_a_branch_covers_the_whole_bank(session: Session, world: dict) -> None:  # type: ignore[type-arg]
    g = _grant(session, world)
    assert g.grantee_org_id == world["bank"].id  # type: ignore[attr-defined]
    ent_id = world["ent"].id
    for who in ("bank_hq", "branch"):
        basis = service.require_consent(session, world[who], ent_id, Scope.TAX, Purpose.CREDIT_ASSESSMENT)
        assert basis == g.id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("who", "scope", "purpose"),
    [
        ("other", Scope.TAX, Purpose.CREDIT_ASSESSMENT),  # another bank
        ("bank_hq", Scope.JUDICIAL, Purpose.CREDIT_ASSESSMENT),  # scope not granted
        ("bank_hq", Scope.TAX, Purpose.LOAN_REVIEW),  # purpose not granted
    ],
)
def test_consent_is_specific(
    session: Session,
    world: dict,
    who: str,
    scope: Scope,  # type: ignore[type-arg]
    purpose: Purpose,
) -> None:
    _grant(session, world)
    with pytest.raises(ConsentMissing):
        service.require_consent(session, world[who], world["ent"].id, scope, purpose)


def test_revoked_and_future_grants_do_not_count(session: Session, world: dict) -> None:  # type: ignore[type-arg]
    g = _grant(session, world)
    service.revoke(session, world["ent_admin"], g.id, GrantRevoke(reason="贷款已结清"))  # type: ignore[attr-defined]
    with pytest.raises(GrantAlreadyRevoked):
        service.revoke(session, world["ent_admin"], g.id, GrantRevoke(reason="again"))  # type: ignore[attr-defined]
    _grant(session, world, valid_from=utcnow() + dt.timedelta(days=1))
    with pytest.raises(ConsentMissing):
        service.require_consent(
            session, world["bank_hq"], world["ent"].id, Scope.TAX, Purpose.CREDIT_ASSESSMENT
        )


@pytest.mark.parametrize("days", [-1, 3 * 366 + 5])
def test_validity_limits(session: Session, world: dict, days: int) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidGrant) as exc:
        _grant(session, world, valid_until=utcnow() + dt.timedelta(days=days))
    assert exc.value.fields[0].field == "valid_until"


def test_only_enterprises_grant_and_only_to_banks(session: Session, world: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(PermissionDenied):
        service.grant(
            session,
            world["bank_hq"],
            GrantCreate(  # type: ignore[arg-type]
                grantee_org_id=world["bank"].id,
                scopes=[Scope.TAX],
                purpose=Purpose.LOAN_REVIEW,
                valid_until=utcnow() + dt.timedelta(days=1),
            ),
        )
    with pytest.raises(InvalidGrant):
        _grant(session, world, grantee_org_id=world["ent"].id)


def test_grants_are_visible_to_both_parties_only(session: Session, world: dict) -> None:  # type: ignore[type-arg]
    g = _grant(session, world)
    assert service.get(session, world["branch"], g.id).id == g.id  # type: ignore[attr-defined]
    with pytest.raises(GrantNotFound):
        service.get(session, world["other"], g.id)  # type: ignore[attr-defined]
    assert service.list_grants(session, world["other"], None, 50, 0).total == 0
    assert service.list_grants(session, world["ent_admin"], None, 50, 0).total == 1


def test_own_and_regulator_reads_need_no_grant(session: Session, world: dict) -> None:  # type: ignore[type-arg]
    reg = make_org(session, OrgKind.REGULATOR)
    analyst = principal(session, reg, Role.REGULATOR_ANALYST)
    ent_id = world["ent"].id
    assert (
        service.require_consent(session, world["ent_admin"], ent_id, Scope.TAX, Purpose.LOAN_REVIEW) == "own"
    )
    assert service.require_consent(session, analyst, ent_id, Scope.TAX, Purpose.LOAN_REVIEW) == "regulator"
