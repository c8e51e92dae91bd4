"""Organisations: created by the operator, or upserted from the registry datasets during ingestion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.db import new_id
from jinyu.core.districts import validate_district
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.ids import validate_uscc
from jinyu.core.industry import validate_industry
from jinyu.core.pagination import Page
from jinyu.party import repository as repo
from jinyu.party.errors import OrganisationCodeTaken, OrganisationNotFound
from jinyu.party.models import Organisation
from jinyu.party.rules import child_path
from jinyu.party.schemas import OrgCreate, OrgOut

# Which kinds may sit under which: bank branches and outlets must have a bank parent; a regulator may be
# organised in divisions (a regulator under a regulator).
_PARENT_KINDS = {
    OrgKind.BANK_BRANCH: {OrgKind.BANK_HEAD_OFFICE},
    OrgKind.BANK_OUTLET: {OrgKind.BANK_BRANCH, OrgKind.BANK_HEAD_OFFICE},
    OrgKind.REGULATOR: {OrgKind.REGULATOR},
}
_NEEDS_PARENT = {OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}


def _validate(data: OrgCreate) -> OrgCreate:
    errors: list[FieldError] = []
    updates: dict[str, object] = {}
    for field, check in (
        ("uscc", validate_uscc),
        ("district_code", validate_district),
        ("industry_code", validate_industry),
    ):
        value = getattr(data, field)
        if data.kind == OrgKind.ENTERPRISE and field == "uscc" and value is None:
            value = data.code
        if value is None:
            continue
        try:
            updates[field] = check(value)
        except InvalidInput as exc:
            errors.extend(exc.fields)
    if data.kind == OrgKind.ENTERPRISE:
        updates["code"] = updates.get("uscc", data.code)
    if data.kind in _NEEDS_PARENT and not data.parent_code:
        errors.append(
            FieldError("parent_code", "支行/网点必须有上级机构 / branches and outlets need a parent")
        )
    if errors:
        raise InvalidInput(detail="机构信息有误 / invalid organisation", fields=errors)
    return data.model_copy(update=updates)


def _place(org: Organisation, parent: Organisation | None) -> None:
    """Set tenant and materialized path: a bank's branches share the head office's tenant."""
    if parent is None:
        org.parent_id, org.tenant_id, org.path = None, org.id, child_path("/", org.id)
    else:
        org.parent_id, org.tenant_id, org.path = parent.id, parent.tenant_id, child_path(parent.path, org.id)


def _parent_for(session: Session, data: OrgCreate) -> Organisation | None:
    if not data.parent_code:
        return None
    parent = repo.find_org_by_code(session, repo.kind_group(data.kind), data.parent_code)
    allowed = _PARENT_KINDS.get(data.kind, set())
    if parent is None or OrgKind(parent.kind) not in allowed:
        raise InvalidInput(
            detail="上级机构不存在或类型不符 / parent not found or of the wrong kind",
            fields=[
                FieldError("parent_code", f"未找到合适的上级机构 / no suitable parent {data.parent_code}")
            ],
        )
    return parent


def create_org(session: Session, principal: Principal, data: OrgCreate) -> OrgOut:
    principal.require(Perm.ORG_MANAGE)
    data = _validate(data)
    group = repo.kind_group(data.kind)
    if repo.find_org_by_code(session, group, data.code):
        raise OrganisationCodeTaken(detail=data.code)
    org = Organisation(
        id=new_id(),
        kind=data.kind.value,
        kind_group=group,
        code=data.code,
        name=data.name,
        uscc=data.uscc,
        district_code=data.district_code,
        industry_code=data.industry_code,
        attrs=data.attrs,
    )
    _place(org, _parent_for(session, data))
    session.add(org)
    session.flush()
    audit.record(
        session,
        principal,
        action="party.org.create",
        subject_type="organisation",
        subject_ids=[org.id],
        detail={"kind": org.kind, "code": org.code},
    )
    return OrgOut.model_validate(org)


def get_org(session: Session, principal: Principal, org_id: str) -> OrgOut:
    principal.require(Perm.ORG_READ)
    org = repo.get_org(session, principal, org_id)
    if org is None:
        raise OrganisationNotFound(detail=org_id)
    return OrgOut.model_validate(org)


def list_orgs(
    session: Session, principal: Principal, kind: str | None, q: str | None, limit: int, offset: int
) -> Page[OrgOut]:
    principal.require(Perm.ORG_READ)
    rows, total = repo.list_orgs(session, principal, kind, q, limit, offset)
    return Page[OrgOut](
        items=[OrgOut.model_validate(o) for o in rows], total=total, limit=limit, offset=offset
    )


def bank_directory(session: Session, principal: Principal, limit: int = 1000) -> list[OrgOut]:
    """Banks an enterprise may name in a consent grant. Banks are public institutions: their names and ids are
    no one's personal data, so the directory is not scoped to the caller's tree (their users and data are)."""
    principal.require(Perm.CONSENT_GRANT)
    return [OrgOut.model_validate(o) for o in repo.list_banks(session, limit)]


@dataclass(frozen=True)
class RegistryOrg:
    """One organisation as the registry datasets describe it (already validated by ingestion)."""

    kind: OrgKind
    code: str
    name: str
    parent_code: str | None = None
    uscc: str | None = None
    district_code: str | None = None
    industry_code: str | None = None
    legal_rep_token: str | None = None
    attrs: Mapping[str, object] | None = None


def upsert_registry_orgs(
    session: Session, principal: Principal, records: Iterable[RegistryOrg]
) -> dict[str, int]:
    """Create or update organisations from registry data; parents must come before their children."""
    counts = {"created": 0, "updated": 0}
    batch = list(records)
    groups = {repo.kind_group(r.kind) for r in batch}
    known: dict[tuple[str, str], Organisation] = {}
    for group in groups:
        codes = [r.code for r in batch if repo.kind_group(r.kind) == group]
        known.update({(group, c): o for c, o in repo.orgs_by_codes(session, group, codes).items()})
    for rec in batch:
        group = repo.kind_group(rec.kind)
        org = known.get((group, rec.code))
        if org is None:
            org = Organisation(id=new_id(), kind=rec.kind.value, kind_group=group, code=rec.code)
            parent = known.get((group, rec.parent_code)) if rec.parent_code else None
            if rec.parent_code and parent is None:
                parent = repo.find_org_by_code(session, group, rec.parent_code)
            _place(org, parent)
            session.add(org)
            known[(group, rec.code)] = org
            counts["created"] += 1
        else:
            counts["updated"] += 1
        org.name, org.uscc, org.district_code = rec.name, rec.uscc, rec.district_code
        org.industry_code, org.legal_rep_token = rec.industry_code, rec.legal_rep_token
        org.attrs = dict(rec.attrs or {})
    session.flush()
    audit.record(
        session,
        principal,
        action="party.org.upsert_registry",
        subject_type="organisation",
        subject_ids=[],
        detail=counts,
    )
    return counts


def resolve_org(session: Session, org_id: str) -> OrgOut | None:
    """Internal lookup for other domains (e.g. consent naming a bank); callers apply their own rules."""
    org = repo.get_org_unscoped(session, org_id)
    return OrgOut.model_validate(org) if org else None


def org_code(session: Session, org_id: str) -> str | None:
    """The organisation's code, as `resolve_org(...).code` without building the whole record (a per-request
    lookup of the risk checks).

    Kept per process once read: an organisation's code is set when it is created and never changes (no
    update path writes it; organisations are not deleted), and ids are never reused, so a code read once is
    the code for good; an id not found is not kept."""
    code = _CODES.get(org_id)
    if code is not None:
        return code
    org = repo.get_org_unscoped(session, org_id)
    if org is None:
        return None
    if len(_CODES) >= _CODES_KEPT:
        _CODES.clear()
    _CODES[org_id] = org.code
    return org.code


_CODES: dict[str, str] = {}  # organisation id -> its code (see org_code); dict reads and writes are atomic
_CODES_KEPT = 100_000


def org_paths_by_codes(session: Session, kind: str, codes: Sequence[str]) -> dict[str, str]:
    """Tree paths of the organisations with these codes, in the code group of `kind` (banks by institution
    code, hospitals and insurers by org code); for other domains' tenant checks. Unknown codes are absent."""
    return {c: o.path for c, o in repo.orgs_by_codes(session, repo.kind_group(kind), list(codes)).items()}


def org_codes_under(session: Session, kind: str, path: str) -> list[str]:
    """Codes of every organisation of `kind`'s code group in the subtree at `path` (a caller's own tree)."""
    return repo.codes_under(session, repo.kind_group(kind), path)


def names_by_codes(session: Session, kind: str, codes: Sequence[str]) -> dict[str, str]:
    """code -> name of the organisations with these codes in the code group of `kind` (e.g. the banks and
    hospitals a governance report names by code); unknown codes are absent."""
    return {
        c: name
        for c, (_, name) in repo.ids_names_by_codes(session, repo.kind_group(kind), list(codes)).items()
    }


def enterprises_by_codes(session: Session, usccs: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(organisation id, name) of each registered enterprise among these USCCs, for batch jobs."""
    return repo.ids_names_by_codes(session, "enterprise", usccs)


def find_enterprise(session: Session, uscc: str) -> OrgOut | None:
    org = repo.find_org_by_code(session, "enterprise", uscc)
    return OrgOut.model_validate(org) if org else None
