"""Users and service accounts of an organisation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal, Role
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError
from jinyu.core.pagination import Page
from jinyu.party import repository as repo
from jinyu.party.errors import (
    OrganisationNotFound,
    RoleNotAllowedForOrganisation,
    UsernameTaken,
    WeakPassword,
)
from jinyu.party.models import Organisation, ServiceAccount, User
from jinyu.party.rules import password_problems, role_allowed
from jinyu.party.schemas import Me, OrgOut, ServiceAccountCreate, ServiceAccountOut, UserCreate, UserOut
from jinyu.party.service.credentials import new_api_key, service_account_out
from jinyu.party.service.identity import hash_api_secret, hash_password


def _org_for_roles(session: Session, principal: Principal, org_id: str, roles: list[Role]) -> Organisation:
    org = repo.get_org(session, principal, org_id)
    if org is None:
        raise OrganisationNotFound(detail=org_id)
    bad = [r.value for r in roles if not role_allowed(r, OrgKind(org.kind))]
    if bad:
        raise RoleNotAllowedForOrganisation(
            detail=f"{', '.join(bad)} ∉ {org.kind}",
            fields=[
                FieldError("roles", f"角色不适用于 {org.kind} 机构 / not for {org.kind}: {', '.join(bad)}")
            ],
        )
    return org


def create_user(session: Session, principal: Principal, data: UserCreate) -> UserOut:
    principal.require(Perm.USER_MANAGE)
    org = _org_for_roles(session, principal, data.org_id, data.roles)
    password = data.password.get_secret_value()
    problems = password_problems(password, data.username)
    if problems:
        raise WeakPassword(detail="; ".join(problems), fields=[FieldError("password", p) for p in problems])
    if repo.get_user_by_username(session, data.username):
        raise UsernameTaken(detail=data.username, fields=[FieldError("username", "已存在 / already exists")])
    user = User(
        id=new_id(),
        username=data.username,
        display_name=data.display_name,
        org_id=org.id,
        roles=sorted(r.value for r in data.roles),
        password_hash=hash_password(password),
        active=True,
        credential_version=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        principal,
        action="party.user.create",
        subject_type="user",
        subject_ids=[user.id],
        detail={"org_id": org.id, "roles": user.roles},
    )
    return UserOut.model_validate(user)


def list_users(session: Session, principal: Principal, limit: int, offset: int) -> Page[UserOut]:
    principal.require(Perm.USER_READ)
    rows, total = repo.list_users(session, principal, limit, offset)
    audit.record(
        session, principal, action="party.user.list", subject_type="user", subject_ids=[u.id for u in rows]
    )
    return Page[UserOut](
        items=[UserOut.model_validate(u) for u in rows], total=total, limit=limit, offset=offset
    )


def create_service_account(
    session: Session, principal: Principal, data: ServiceAccountCreate
) -> ServiceAccountOut:
    """Create a service account; its API key (`prefix.secret`) is returned once and stored only hashed."""
    principal.require(Perm.USER_MANAGE)
    org = _org_for_roles(session, principal, data.org_id, data.roles)
    prefix, secret = new_api_key()
    account = ServiceAccount(
        id=new_id(),
        name=data.name,
        org_id=org.id,
        roles=sorted(r.value for r in data.roles),
        key_prefix=prefix,
        key_hash=hash_api_secret(secret),
        active=True,
        key_issued_at=utcnow(),
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        principal,
        action="party.service_account.create",
        subject_type="service_account",
        subject_ids=[account.id],
        detail={"org_id": org.id, "roles": account.roles},
    )
    return service_account_out(account, f"{prefix}.{secret}")


def me(session: Session, principal: Principal) -> Me:
    org = repo.get_org_unscoped(session, principal.org_id)
    if org is None:
        raise OrganisationNotFound(detail=principal.org_id)
    user = None if principal.is_service else repo.get_user(session, principal.subject_id)
    return Me(
        user=UserOut.model_validate(user) if user else None,
        service_account=principal.username if principal.is_service else None,
        organisation=OrgOut.model_validate(org),
        roles=sorted(principal.roles),
        permissions=sorted(p.value for p in principal.perms),
    )
