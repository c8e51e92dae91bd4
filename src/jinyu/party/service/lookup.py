"""Read-only facts about organisations and users for other domains (financing routing and scoping): the
tree path, kind and place of an organisation, the organisation and roles of a user. No access check: the
calling service decides what its caller may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.party.models import Organisation, User


@dataclass(frozen=True)
class OrgFacts:
    id: str
    kind: str
    code: str
    name: str
    path: str
    parent_id: str | None
    tenant_id: str
    district_code: str | None
    industry_code: str | None
    chain_code: str | None


@dataclass(frozen=True)
class UserFacts:
    id: str
    username: str
    display_name: str
    org_id: str
    roles: tuple[str, ...]
    active: bool


def _facts(org: Organisation) -> OrgFacts:
    chain = (org.attrs or {}).get("chain_code")
    return OrgFacts(
        org.id, org.kind, org.code, org.name, org.path, org.parent_id, org.tenant_id,
        org.district_code, org.industry_code, str(chain) if chain else None,
    )  # fmt: skip


def org_facts(session: Session, org_id: str) -> OrgFacts | None:
    org = session.get(Organisation, org_id)
    return _facts(org) if org is not None else None


def orgs_facts(session: Session, org_ids: Iterable[str]) -> dict[str, OrgFacts]:
    ids = sorted(set(org_ids))
    found: dict[str, OrgFacts] = {}
    for start in range(0, len(ids), 500):
        stmt = select(Organisation).where(Organisation.id.in_(ids[start : start + 500]))
        found.update({o.id: _facts(o) for o in session.scalars(stmt)})
    return found


def outlets_in_district(session: Session, district_code: str) -> list[OrgFacts]:
    stmt = select(Organisation).where(
        Organisation.kind == "bank_outlet", Organisation.district_code == district_code
    )
    return [_facts(o) for o in session.scalars(stmt.order_by(Organisation.code))]


def user_facts(session: Session, user_id: str) -> UserFacts | None:
    user = session.get(User, user_id)
    if user is None:
        return None
    return UserFacts(user.id, user.username, user.display_name, user.org_id, tuple(user.roles), user.active)


def users_display_names(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(user_ids))
    names: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        stmt = select(User.id, User.display_name).where(User.id.in_(ids[start : start + 500]))
        names.update({uid: name for uid, name in session.execute(stmt)})
    return names


def org_by_code(session: Session, kind: str, code: str) -> OrgFacts | None:
    stmt = select(Organisation).where(Organisation.kind == kind, Organisation.code == code)
    org = session.scalars(stmt).first()
    return _facts(org) if org is not None else None
