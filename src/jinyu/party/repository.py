"""Every query on party tables. `readable_orgs(principal)` scopes organisations to the caller."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Principal
from jinyu.party.models import Organisation, Registration, ServiceAccount, User

KIND_GROUPS = {
    "enterprise": "enterprise",
    "bank_head_office": "bank",
    "bank_branch": "bank",
    "bank_outlet": "bank",
}


def kind_group(kind: str) -> str:
    return KIND_GROUPS.get(kind, "institution")


def readable_orgs(principal: Principal) -> Select[Organisation]:
    """Regulators and the operator see every organisation; everyone else their own subtree."""
    stmt = select(Organisation)
    if principal.sees_everything:
        return stmt
    return stmt.where(Organisation.path.startswith(principal.org_path, autoescape=True))


def get_org(session: Session, principal: Principal, org_id: str) -> Organisation | None:
    return session.scalars(readable_orgs(principal).where(Organisation.id == org_id)).first()


def get_org_unscoped(session: Session, org_id: str) -> Organisation | None:
    return session.get(Organisation, org_id)


def find_org_by_code(session: Session, group: str, code: str) -> Organisation | None:
    stmt = select(Organisation).where(Organisation.kind_group == group, Organisation.code == code)
    return session.scalars(stmt).first()


def orgs_by_codes(session: Session, group: str, codes: Sequence[str]) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for start in range(0, len(codes), 500):
        chunk = list(codes[start : start + 500])
        stmt = select(Organisation).where(Organisation.kind_group == group, Organisation.code.in_(chunk))
        found.update({o.code: o for o in session.scalars(stmt)})
    return found


def ids_names_by_codes(session: Session, group: str, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """code -> (organisation id, name), three columns only: batch jobs look up thousands of codes at once, and
    building ORM objects for them cost more than the query."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(codes), 500):
        chunk = list(codes[start : start + 500])
        stmt = select(Organisation.code, Organisation.id, Organisation.name).where(
            Organisation.kind_group == group, Organisation.code.in_(chunk)
        )
        found.update({code: (org_id, name) for code, org_id, name in session.execute(stmt)})
    return found


def codes_under(session: Session, group: str, path: str) -> list[str]:
    stmt = select(Organisation.code).where(
        Organisation.kind_group == group, Organisation.path.startswith(path, autoescape=True)
    )
    return list(session.scalars(stmt))


def list_orgs(
    session: Session, principal: Principal, kind: str | None, q: str | None, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    stmt = readable_orgs(principal)
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if q:
        stmt = stmt.where(Organisation.name.contains(q, autoescape=True) | (Organisation.code == q))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Organisation.kind, Organisation.code).limit(limit).offset(offset))
    return list(rows), total


def list_banks(session: Session, limit: int) -> list[Organisation]:
    """Every bank organisation (head offices, branches, outlets), by name: unscoped, for naming a grantee."""
    kinds = (OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET)
    stmt = select(Organisation).where(Organisation.kind.in_([k.value for k in kinds]))
    return list(session.scalars(stmt.order_by(Organisation.name).limit(limit)))


def readable_users(principal: Principal) -> Select[User]:
    stmt = select(User).join(Organisation, User.org_id == Organisation.id)
    if principal.sees_everything:
        return stmt
    return stmt.where(Organisation.path.startswith(principal.org_path, autoescape=True))


def list_users(session: Session, principal: Principal, limit: int, offset: int) -> tuple[list[User], int]:
    stmt = readable_users(principal)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(session.scalars(stmt.order_by(User.username).limit(limit).offset(offset))), total


def get_user_by_username(session: Session, username: str, *, for_update: bool = False) -> User | None:
    stmt = select(User).where(User.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_readable_user(session: Session, principal: Principal, user_id: str) -> User | None:
    return session.scalars(readable_users(principal).where(User.id == user_id)).first()


def readable_service_accounts(principal: Principal) -> Select[ServiceAccount]:
    stmt = select(ServiceAccount).join(Organisation, ServiceAccount.org_id == Organisation.id)
    if principal.sees_everything:
        return stmt
    return stmt.where(Organisation.path.startswith(principal.org_path, autoescape=True))


def get_service_account(session: Session, principal: Principal, account_id: str) -> ServiceAccount | None:
    stmt = readable_service_accounts(principal).where(ServiceAccount.id == account_id)
    return session.scalars(stmt).first()


def list_service_accounts(
    session: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[ServiceAccount], int]:
    stmt = readable_service_accounts(principal)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ServiceAccount.name, ServiceAccount.id).limit(limit).offset(offset))
    return list(rows), total


def get_service_account_by_prefix(session: Session, prefix: str) -> ServiceAccount | None:
    return session.scalars(select(ServiceAccount).where(ServiceAccount.key_prefix == prefix)).first()


def get_registration_for_org(session: Session, org_id: str) -> Registration | None:
    return session.scalars(select(Registration).where(Registration.org_id == org_id)).first()


def readable_registrations(principal: Principal) -> Select[Registration]:
    stmt = select(Registration).join(Organisation, Registration.org_id == Organisation.id)
    if principal.sees_everything:
        return stmt
    return stmt.where(Organisation.path.startswith(principal.org_path, autoescape=True))


def get_registration(session: Session, principal: Principal, registration_id: str) -> Registration | None:
    stmt = readable_registrations(principal).where(Registration.id == registration_id)
    return session.scalars(stmt).first()


def list_registrations(
    session: Session, principal: Principal, state: str | None, limit: int, offset: int
) -> tuple[list[Registration], int]:
    stmt = readable_registrations(principal)
    if state:
        stmt = stmt.where(Registration.state == state)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Registration.created_at.desc()).limit(limit).offset(offset))
    return list(rows), total
