from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.errors import InvalidInput, PermissionDenied
from jinyu.party import service
from jinyu.party.errors import (
    AccountLocked,
    BadCredentials,
    OrganisationCodeTaken,
    OrganisationNotFound,
    RegistrationExists,
    RegistrationStateInvalid,
    RoleNotAllowedForOrganisation,
    UsernameTaken,
    WeakPassword,
)
from jinyu.party.rules import RegistrationState
from jinyu.party.schemas import OrgCreate, RegistrationDecision, RegistrationSubmit, UserCreate
from jinyu.party.service.registration import person_token
from tests.fixtures.auth import PASSWORD, make_org, make_user, principal, resident_id, uscc


def test_enterprise_code_is_validated_field_by_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as exc:
        service.create_org(
            session,
            SYSTEM,
            OrgCreate(
                kind=OrgKind.ENTERPRISE,
                code="91500000MA00000000",
                name="x",
                district_code="99",
                industry_code="Z99",
            ),
        )
    fields = {f.field for f in exc.value.fields}
    assert fields == {"uscc", "district_code", "industry_code"}


def test_duplicate_codes_conflict(session: Session) -> None:
    org = make_org(session, OrgKind.ENTERPRISE)
    with pytest.raises(OrganisationCodeTaken):
        service.create_org(session, SYSTEM, OrgCreate(kind=OrgKind.ENTERPRISE, code=org.code, name="again"))


def test_bank_tree_shares_tenant_and_branches_see_only_their_subtree(session: Session) -> None:
    head = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch_a = make_org(session, OrgKind.BANK_BRANCH, parent=head)
    branch_b = make_org(session, OrgKind.BANK_BRANCH, parent=head)
    outlet = make_org(session, OrgKind.BANK_OUTLET, parent=branch_a)
    assert {branch_a.tenant_id, outlet.tenant_id} == {head.id}
    hq = principal(session, head, Role.BANK_HQ_RISK)
    officer = principal(session, branch_a, Role.BANK_BRANCH_OFFICER)
    seen_by_hq = {o.id for o in service.list_orgs(session, hq, None, None, 100, 0).items}
    seen_by_officer = {o.id for o in service.list_orgs(session, officer, None, None, 100, 0).items}
    assert seen_by_hq == {head.id, branch_a.id, branch_b.id, outlet.id}
    assert seen_by_officer == {branch_a.id, outlet.id}
    with pytest.raises(OrganisationNotFound):
        service.get_org(session, officer, branch_b.id)


def test_other_tenants_organisation_is_not_found(session: Session) -> None:
    bank1, bank2 = make_org(session, OrgKind.BANK_HEAD_OFFICE), make_org(session, OrgKind.BANK_HEAD_OFFICE)
    p1 = principal(session, bank1, Role.BANK_HQ_RISK)
    with pytest.raises(OrganisationNotFound):
        service.get_org(session, p1, bank2.id)


def test_outlet_needs_a_bank_parent(session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    with pytest.raises(InvalidInput) as exc:
        make_org(session, OrgKind.BANK_OUTLET, parent=ent)
    assert exc.value.fields[0].field == "parent_code"


def test_user_roles_must_fit_the_organisation(session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    with pytest.raises(RoleNotAllowedForOrganisation):
        make_user(session, ent, Role.BANK_HQ_RISK)


def test_weak_password_and_taken_username(session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    with pytest.raises(WeakPassword) as exc:
        service.create_user(
            session,
            SYSTEM,
            UserCreate(
                username="weak",
                display_name="w",
                org_id=ent.id,
                roles=[Role.ENTERPRISE_ADMIN],
                password=SecretStr("abc"),
            ),
        )
    assert exc.value.fields[0].field == "password"
    make_user(session, ent, Role.ENTERPRISE_ADMIN, username="taken")
    with pytest.raises(UsernameTaken):
        make_user(session, ent, Role.ENTERPRISE_ADMIN, username="taken")


def test_only_user_managers_create_users(session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    admin = principal(session, ent, Role.ENTERPRISE_ADMIN)
    with pytest.raises(PermissionDenied):
        service.create_user(
            session,
            admin,
            UserCreate(
                username="x1x",
                display_name="x",
                org_id=ent.id,
                roles=[Role.ENTERPRISE_ADMIN],
                password=SecretStr(PASSWORD),
            ),
        )


def test_login_locks_after_repeated_failures(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    make_user(session, ent, Role.ENTERPRISE_ADMIN, username="locky")
    session.commit()  # a failed login ends the caller's transaction
    assert service.login(session, session_factory, "locky", PASSWORD, settings).access_token
    for _ in range(settings.login_max_failures):
        with pytest.raises(BadCredentials):
            service.login(session, session_factory, "locky", "wrong-password", settings)
    session.expire_all()
    with pytest.raises(AccountLocked):
        service.login(session, session_factory, "locky", PASSWORD, settings)


def test_unknown_user_gets_the_same_error(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(BadCredentials):
        service.login(session, session_factory, "nobody", PASSWORD, settings)


def test_token_round_trip(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    token = service.login(session, session_factory, user.username, PASSWORD, settings).access_token
    p = service.authenticate_token(session, token, settings)
    assert (p.subject_id, p.org_id, p.roles) == (user.id, ent.id, frozenset({Role.ENTERPRISE_ADMIN}))


def _registered_enterprise(session: Session, rid: str) -> tuple[object, object]:
    key = b"k" * 32
    ent = make_org(session, OrgKind.ENTERPRISE, code=uscc())
    service.upsert_registry_orgs(
        session,
        SYSTEM,
        [
            service.RegistryOrg(
                kind=OrgKind.ENTERPRISE,
                code=ent.code,
                name=ent.name,
                uscc=ent.code,
                legal_rep_token=person_token(key, rid),
            )
        ],
    )
    return ent, principal(session, ent, Role.ENTERPRISE_ADMIN)


def test_registration_matching_the_registry_verifies_at_once(session: Session) -> None:
    rid = resident_id()
    _, admin = _registered_enterprise(session, rid)
    reg = service.submit_registration(
        session,
        admin,
        RegistrationSubmit(  # type: ignore[arg-type]
            legal_rep_id=SecretStr(rid), legal_rep_name="张三"
        ),
        b"k" * 32,
    )
    assert reg.state == RegistrationState.VERIFIED
    assert reg.legal_rep_masked == rid[:6] + "********" + rid[-4:]
    assert reg.legal_rep_name_masked == "张*"
    with pytest.raises(RegistrationExists):
        service.submit_registration(
            session,
            admin,
            RegistrationSubmit(  # type: ignore[arg-type]
                legal_rep_id=SecretStr(rid), legal_rep_name="张三"
            ),
            b"k" * 32,
        )


def test_mismatch_waits_for_review_then_supervisor_decides(session: Session) -> None:
    _, admin = _registered_enterprise(session, resident_id(seq=1))
    reg = service.submit_registration(
        session,
        admin,
        RegistrationSubmit(  # type: ignore[arg-type]
            legal_rep_id=SecretStr(resident_id(seq=2)), legal_rep_name="李四"
        ),
        b"k" * 32,
    )
    assert reg.state == RegistrationState.PENDING and "manual review" in reg.reason
    regulator = make_org(session, OrgKind.REGULATOR)
    supervisor = principal(session, regulator, Role.REGULATOR_SUPERVISOR)
    with pytest.raises(RegistrationStateInvalid):
        service.decide_registration(
            session, supervisor, reg.id, RegistrationDecision(state=RegistrationState.SUSPENDED, reason="no")
        )
    done = service.decide_registration(
        session,
        supervisor,
        reg.id,
        RegistrationDecision(state=RegistrationState.VERIFIED, reason="核对营业执照"),
    )
    assert (done.state, done.reason) == ("verified", "核对营业执照")
    with pytest.raises(PermissionDenied):
        service.decide_registration(
            session,
            admin,
            reg.id,  # type: ignore[arg-type]
            RegistrationDecision(state=RegistrationState.SUSPENDED, reason="self"),
        )


def test_registration_rejects_bad_resident_id(session: Session) -> None:
    _, admin = _registered_enterprise(session, resident_id())
    with pytest.raises(InvalidInput) as exc:
        service.submit_registration(
            session,
            admin,
            RegistrationSubmit(  # type: ignore[arg-type]
                legal_rep_id=SecretStr("500101198506141230"), legal_rep_name="王五"
            ),
            b"k" * 32,
        )
    assert exc.value.fields[0].field == "legal_rep_id"


def test_regulator_divisions_sit_under_the_regulator(session: Session) -> None:
    head = make_org(session, OrgKind.REGULATOR)
    division = make_org(session, OrgKind.REGULATOR, parent=head)
    assert (division.parent_id, division.tenant_id) == (head.id, head.id)
    analyst = principal(session, division, Role.REGULATOR_ANALYST)
    assert service.get_org(session, analyst, head.id).id == head.id  # regulators see every organisation


def test_api_keys_resolve_from_a_short_cache_until_forgotten(session: Session) -> None:
    from jinyu.party.errors import InvalidToken
    from jinyu.party.models import ServiceAccount
    from jinyu.party.schemas import ServiceAccountCreate

    hospital = make_org(session, OrgKind.HOSPITAL)
    created = service.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name="HIS", org_id=hospital.id, roles=[Role.HOSPITAL_SYSTEM])
    )
    service.forget_api_keys()
    first = service.authenticate_api_key(session, created.api_key)
    assert (first.org_id, first.roles) == (hospital.id, frozenset({Role.HOSPITAL_SYSTEM}))
    with pytest.raises(InvalidToken):
        service.authenticate_api_key(session, created.api_key + "x")  # a wrong key is never served from cache
    account = session.get(ServiceAccount, created.id)
    assert account is not None
    account.active = False
    session.flush()
    assert service.authenticate_api_key(session, created.api_key) == first  # within the cache's 30 s
    service.forget_api_keys()
    with pytest.raises(InvalidToken):
        service.authenticate_api_key(session, created.api_key)


def test_a_key_in_steady_use_is_refreshed_before_its_entry_runs_out(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the entry's refresh is due one use (only one) claims it; the refresh renews the entry, or drops it
    once the key no longer works, and the key is refused at once."""
    from jinyu.party.errors import InvalidToken
    from jinyu.party.models import ServiceAccount
    from jinyu.party.schemas import ServiceAccountCreate
    from jinyu.party.service import identity

    hospital = make_org(session, OrgKind.HOSPITAL)
    created = service.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name="HIS", org_id=hospital.id, roles=[Role.HOSPITAL_SYSTEM])
    )
    service.forget_api_keys()
    now = [1000.0]
    monkeypatch.setattr(identity, "monotonic", lambda: now[0])
    key = created.api_key
    first = service.authenticate_api_key(session, key)
    earliest, latest = identity.API_KEY_REFRESH_SECONDS
    now[0] += earliest - 1
    assert not service.api_key_refresh_due(key)  # still fresh
    now[0] += latest - earliest + 2
    assert service.cached_api_key_principal(key) == first
    assert service.api_key_refresh_due(key) and not service.api_key_refresh_due(key)  # claimed once
    service.refresh_api_key(session, key)
    now[0] += identity.API_KEY_CACHE_SECONDS - 1  # past the first check's expiry: renewed by the refresh
    assert service.cached_api_key_principal(key) == first
    assert service.api_key_refresh_due(key)  # due again, and this time the key has been deactivated
    account = session.get(ServiceAccount, created.id)
    assert account is not None
    account.active = False
    session.flush()
    service.refresh_api_key(session, key)
    assert service.cached_api_key_principal(key) is None
    with pytest.raises(InvalidToken):
        service.authenticate_api_key(session, key)
    service.forget_api_keys()


def test_org_code_answers_each_organisation_its_own_code(session: Session) -> None:
    """Kept per process after the first read (codes never change): asked twice, each organisation still gets
    the code it was created with, and an id that is no organisation gets None (and is not kept)."""
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="C10000000000001")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank, code="C10000000000002")
    for _ in range(2):
        assert service.org_code(session, bank.id) == "C10000000000001"
        assert service.org_code(session, branch.id) == "C10000000000002"
        assert service.org_code(session, "no-such-organisation") is None
