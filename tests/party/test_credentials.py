"""Suspension, token revocation (credential versions), password changes, API key revocation and rotation."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal, Role
from jinyu.party import service
from jinyu.party.errors import CannotSuspendSelf, InvalidToken, UserNotFound
from jinyu.party.schemas import PasswordSet, Revocation, ServiceAccountCreate, Suspension
from jinyu.party.service import identity
from tests.fixtures.auth import PASSWORD, login, make_org, make_user

NEW_PASSWORD = "Another-Horse-73y"


def _actions(session: Session, subject_id: str) -> list[str]:
    """The changes audited on one user or account, in order (logins and listings left out)."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.at))
    skip = {"auth.login", "party.user.list", "party.service_account.list"}
    return [e.action for e in rows if subject_id in (e.subject_ids or []) and e.action not in skip]


@pytest.fixture
def admin(client: TestClient, session: Session) -> dict[str, str]:
    ops = make_org(session, OrgKind.OPERATOR)
    user = make_user(session, ops, Role.PLATFORM_ADMIN, username="ops-admin")
    session.commit()
    return login(client, user.username)


def test_suspending_a_user_stops_their_tokens_at_once_and_reactivation_needs_a_new_login(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    user = make_user(session, bank, Role.BANK_HQ_RISK)
    session.commit()
    token = login(client, user.username)
    assert client.get("/api/v1/me", headers=token).status_code == 200
    resp = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"active": False, "reason": "离职"})
    assert resp.status_code == 200 and resp.json()["active"] is False
    gone = client.get("/api/v1/me", headers=token)
    assert gone.status_code == 401 and gone.json()["code"] == "invalid_token"
    refused = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["code"] == "bad_credentials"
    resp = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"active": True, "reason": "复职"})
    assert resp.status_code == 200 and resp.json()["active"] is True
    assert client.get("/api/v1/me", headers=token).status_code == 401  # the old token stays revoked
    assert client.get("/api/v1/me", headers=login(client, user.username)).status_code == 200
    assert _actions(session, user.id)[-2:] == ["party.user.suspend", "party.user.reactivate"]


def test_patch_needs_a_reason_and_the_manage_permission(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    user = make_user(session, bank, Role.BANK_HQ_RISK)
    session.commit()
    resp = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"active": False})
    assert resp.status_code == 422 and [e["field"] for e in resp.json()["errors"]] == ["reason"]
    own = login(client, user.username)
    resp = client.patch(f"/api/v1/users/{user.id}", headers=own, json={"active": False, "reason": "self"})
    assert resp.status_code == 403
    resp = client.patch("/api/v1/users/no-such-id", headers=admin, json={"active": False, "reason": "x1"})
    assert resp.status_code == 404 and resp.json()["code"] == "user_not_found"


def test_a_manager_acts_only_within_their_tenant_and_never_suspends_themself(session: Session) -> None:
    bank, other = make_org(session, OrgKind.BANK_HEAD_OFFICE), make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    mine, theirs = (
        make_user(session, branch, Role.BANK_BRANCH_OFFICER),
        make_user(session, other, Role.BANK_HQ_RISK),
    )
    boss = make_user(session, bank, Role.BANK_HQ_RISK)
    base = service.principal_for_user(session, boss)
    manager = Principal(
        subject_id=base.subject_id,
        username=base.username,
        org_id=base.org_id,
        org_kind=base.org_kind,
        tenant_id=base.tenant_id,
        org_path=base.org_path,
        roles=base.roles,
        perms=frozenset({Perm.USER_MANAGE, Perm.USER_READ}),
    )
    off = Suspension(active=False, reason="审计要求")
    assert service.set_user_active(session, manager, mine.id, off).active is False
    with pytest.raises(UserNotFound):  # another tenant's user: 404
        service.set_user_active(session, manager, theirs.id, off)
    with pytest.raises(UserNotFound):
        service.revoke_user_tokens(session, manager, theirs.id, Revocation(reason="x1"))
    with pytest.raises(CannotSuspendSelf):
        service.set_user_active(session, manager, boss.id, off)


def test_revoking_tokens_and_changing_the_password_end_earlier_tokens(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    session.commit()
    first, second = login(client, user.username), login(client, user.username)
    resp = client.post("/api/v1/me/revoke-tokens", headers=first, json={"reason": "lost phone"})
    assert resp.status_code == 200
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 401
    third = login(client, user.username)
    resp = client.post(f"/api/v1/users/{user.id}/revoke-tokens", headers=admin, json={"reason": "incident"})
    assert resp.status_code == 200 and client.get("/api/v1/me", headers=third).status_code == 401

    fourth = login(client, user.username)
    wrong = {"current_password": "Not-The-One-99", "new_password": NEW_PASSWORD}
    resp = client.post("/api/v1/me/password", headers=fourth, json=wrong)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "current_password"
    common = {"current_password": PASSWORD, "new_password": "Password123!"}
    resp = client.post("/api/v1/me/password", headers=fourth, json=common)
    assert resp.status_code == 422 and resp.json()["code"] == "weak_password"
    assert resp.json()["errors"] == [
        {"field": "new_password", "message": "是常见密码，容易被猜中 / is a common password, easily guessed"}
    ]
    resp = client.post(
        "/api/v1/me/password",
        headers=fourth,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert resp.status_code == 200
    fresh = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=fourth).status_code == 401
    assert client.get("/api/v1/me", headers=fresh).status_code == 200
    assert client.get("/api/v1/me", headers=login(client, user.username, NEW_PASSWORD)).status_code == 200
    assert {"party.user.revoke_tokens", "party.user.password_change"} <= set(_actions(session, user.id))


def test_an_administrator_resets_a_password(session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    before = user.credential_version
    service.set_user_password(
        session, SYSTEM, user.id, PasswordSet(password=SecretStr(NEW_PASSWORD), reason="忘记")
    )
    assert user.credential_version == before + 1 and identity.hasher.verify(user.password_hash, NEW_PASSWORD)


def test_a_common_password_is_refused_at_creation_naming_the_field(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    session.commit()
    body = {"username": "new-user", "display_name": "n", "org_id": ent.id, "roles": ["enterprise_admin"]}
    resp = client.post("/api/v1/users", headers=admin, json=body | {"password": "Password123!"})
    assert resp.status_code == 422 and resp.json()["code"] == "weak_password"
    assert [e["field"] for e in resp.json()["errors"]] == ["password"]
    assert "常见密码" in resp.json()["errors"][0]["message"]


def _hospital_key(session: Session) -> tuple[str, str]:
    hospital = make_org(session, OrgKind.HOSPITAL)
    created = service.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name="HIS", org_id=hospital.id, roles=[Role.HOSPITAL_SYSTEM])
    )
    assert created.api_key is not None
    return created.id, created.api_key


def test_rotation_and_revocation_stop_a_cached_key_at_once(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    account_id, old_key = _hospital_key(session)
    session.commit()
    service.forget_api_keys()
    assert client.get("/api/v1/me", headers={"X-API-Key": old_key}).status_code == 200
    assert service.cached_api_key_principal(old_key) is not None  # cached: would work for 30 s
    resp = client.post(
        f"/api/v1/service-accounts/{account_id}/rotate-key", headers=admin, json={"reason": "季度"}
    )
    assert resp.status_code == 200
    new_key = resp.json()["api_key"]
    assert new_key and new_key != old_key and resp.json()["key_prefix"] == new_key.split(".")[0]
    assert client.get("/api/v1/me", headers={"X-API-Key": old_key}).status_code == 401
    assert client.get("/api/v1/me", headers={"X-API-Key": new_key}).status_code == 200
    listed = client.get("/api/v1/service-accounts", headers=admin).json()["items"]
    assert [a["api_key"] for a in listed if a["id"] == account_id] == [None]  # keys are shown once

    resp = client.post(
        f"/api/v1/service-accounts/{account_id}/revoke-key", headers=admin, json={"reason": "泄露"}
    )
    assert resp.status_code == 200 and resp.json()["key_revoked_at"] is not None
    assert client.get("/api/v1/me", headers={"X-API-Key": new_key}).status_code == 401
    actions = _actions(session, account_id)
    assert actions[-2:] == ["party.service_account.rotate_key", "party.service_account.revoke_key"]
    service.forget_api_keys()


def test_suspending_a_service_account_stops_its_cached_key_at_once(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    account_id, key = _hospital_key(session)
    session.commit()
    service.forget_api_keys()
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    off = {"active": False, "reason": "停用"}
    assert client.patch(f"/api/v1/service-accounts/{account_id}", headers=admin, json=off).status_code == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    on = {"active": True, "reason": "恢复"}
    assert client.patch(f"/api/v1/service-accounts/{account_id}", headers=admin, json=on).status_code == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    service.forget_api_keys()


def test_a_key_re_cached_before_the_revocation_commits_is_dropped_at_the_commit(session: Session) -> None:
    account_id, key = _hospital_key(session)
    session.commit()
    service.forget_api_keys()
    principal = service.authenticate_api_key(session, key)
    service.revoke_api_key(session, SYSTEM, account_id, Revocation(reason="泄露"))
    assert service.cached_api_key_principal(key) is None  # dropped at once
    identity._remember(identity.hash_api_secret(key), principal)  # a request that read the old state
    session.commit()
    assert service.cached_api_key_principal(key) is None  # dropped again after the commit
    with pytest.raises(InvalidToken):
        service.authenticate_api_key(session, key)
    service.forget_api_keys()


def test_a_token_from_before_credential_versions_counts_as_version_zero(
    session: Session, settings: Settings
) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE)
    user = make_user(session, ent, Role.ENTERPRISE_ADMIN)
    claims = {"sub": user.id, "iss": "jinyu", "exp": 4_102_444_800}  # no "cv": issued by the old code
    legacy = jwt.encode(claims, settings.key("signing_key"), algorithm=identity.ALGORITHM)
    assert service.authenticate_token(session, legacy, settings).subject_id == user.id
    service.revoke_user_tokens(session, SYSTEM, user.id, Revocation(reason="升级后撤销"))
    with pytest.raises(InvalidToken):
        service.authenticate_token(session, legacy, settings)
    forged = jwt.encode(claims | {"cv": "1"}, settings.key("signing_key"), algorithm=identity.ALGORITHM)
    with pytest.raises(InvalidToken):  # a version must be the number itself
        service.authenticate_token(session, forged, settings)


def test_every_key_prefix_can_be_audited(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prefix of twelve decimal digits looked like a card number to the audit trail, which refused it."""
    from jinyu.audit import rules as audit_rules
    from jinyu.party.service import credentials

    monkeypatch.setattr(credentials.secrets, "token_hex", lambda n: "1" * (2 * n))
    prefix, _ = credentials.new_api_key()
    assert not audit_rules.looks_like_raw_identifier(f'{{"key_prefix": "{prefix}"}}')
