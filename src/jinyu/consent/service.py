"""Consent use cases: grant, revoke, list, and the check every service reading enterprise data for a bank makes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.consent import repository as repo
from jinyu.consent.errors import ConsentMissing, GrantAlreadyRevoked, GrantNotFound, InvalidGrant
from jinyu.consent.models import Grant
from jinyu.consent.rules import GrantState, Purpose, Scope, covers, validity_problem
from jinyu.consent.schemas import GrantCreate, GrantOut, GrantRevoke
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError, PermissionDenied
from jinyu.core.pagination import Page
from jinyu.party import service as party

BANK_KINDS = {OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}


def grant(session: Session, principal: Principal, data: GrantCreate) -> GrantOut:
    """An enterprise administrator authorizes a bank; the grant covers the bank's whole tenant."""
    principal.require(Perm.CONSENT_GRANT)
    if principal.org_kind != OrgKind.ENTERPRISE:
        raise PermissionDenied(detail="仅企业可授权 / only enterprises grant consent")
    bank = party.resolve_org(session, data.grantee_org_id)
    if bank is None or OrgKind(bank.kind) not in BANK_KINDS:
        raise InvalidGrant(fields=[FieldError("grantee_org_id", "不是银行机构 / not a bank")])
    now = utcnow()
    valid_from = as_utc(data.valid_from) if data.valid_from else now
    problem = validity_problem(valid_from, as_utc(data.valid_until), now)
    if problem:
        raise InvalidGrant(detail=problem, fields=[FieldError("valid_until", problem)])
    row = Grant(
        id=new_id(),
        enterprise_org_id=principal.org_id,
        grantee_org_id=bank.tenant_id,
        scopes=sorted({s.value for s in data.scopes}),
        purpose=data.purpose.value,
        valid_from=valid_from,
        valid_until=as_utc(data.valid_until),
        state=GrantState.ACTIVE.value,
        created_by=principal.subject_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        action="consent.grant",
        subject_type="consent_grant",
        subject_ids=[row.id],
        purpose=row.purpose,
        detail={"grantee": row.grantee_org_id, "scopes": row.scopes},
    )
    return GrantOut.model_validate(row)


def revoke(session: Session, principal: Principal, grant_id: str, data: GrantRevoke) -> GrantOut:
    principal.require(Perm.CONSENT_GRANT)
    row = repo.get(session, principal, grant_id)
    if row is None or row.enterprise_org_id != principal.org_id:
        raise GrantNotFound(detail=grant_id)
    if row.state == GrantState.REVOKED:
        raise GrantAlreadyRevoked(detail=grant_id)
    row.state, row.revoked_at = GrantState.REVOKED.value, utcnow()
    row.revoked_by, row.revoke_reason = principal.subject_id, data.reason
    session.flush()
    audit.record(
        session,
        principal,
        action="consent.revoke",
        subject_type="consent_grant",
        subject_ids=[row.id],
        detail={"reason": data.reason},
    )
    return GrantOut.model_validate(row)


def get(session: Session, principal: Principal, grant_id: str) -> GrantOut:
    principal.require(Perm.CONSENT_READ)
    row = repo.get(session, principal, grant_id)
    if row is None:
        raise GrantNotFound(detail=grant_id)
    audit.record(
        session, principal, action="consent.read", subject_type="consent_grant", subject_ids=[row.id]
    )
    return GrantOut.model_validate(row)


def list_grants(
    session: Session, principal: Principal, enterprise_org_id: str | None, limit: int, offset: int
) -> Page[GrantOut]:
    principal.require(Perm.CONSENT_READ)
    rows, total = repo.list_(session, principal, enterprise_org_id, limit, offset)
    audit.record(
        session,
        principal,
        action="consent.list",
        subject_type="consent_grant",
        subject_ids=[r.id for r in rows],
    )
    return Page[GrantOut](
        items=[GrantOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def require_consent(
    session: Session, principal: Principal, enterprise_org_id: str, scope: Scope, purpose: Purpose
) -> str:
    """Why the caller may read this part of the enterprise's data: 'own', 'regulator' or a grant id.

    Banks need a grant in force for this scope and purpose; the enterprise reads its own data; regulators read
    under their statutory mandate. Anyone else is refused. The caller audits the read with the returned basis."""
    if principal.org_id == enterprise_org_id:
        return "own"
    if principal.org_kind == OrgKind.REGULATOR:
        return "regulator"
    if principal.org_kind in BANK_KINDS:
        for row in repo.candidates(session, enterprise_org_id, principal.tenant_id, utcnow()):
            if covers(row.scopes, row.purpose, scope, purpose):
                return row.id
    raise ConsentMissing(detail=f"scope={scope.value}, purpose={purpose.value}")


def covering_grants(
    session: Session, principal: Principal, enterprise_org_id: str, purpose: Purpose
) -> dict[Scope, str]:
    """For a bank caller: each scope a grant in force covers for this purpose, with one such grant's id.

    Empty for anyone else (the enterprise itself and regulators read by `require_consent`'s other bases).
    A grant belongs to the bank's whole tenant, so another bank's branch never finds one here."""
    if principal.org_kind not in BANK_KINDS:
        return {}
    found: dict[Scope, str] = {}
    for row in repo.candidates(session, enterprise_org_id, principal.tenant_id, utcnow()):
        for scope in Scope:
            if scope not in found and covers(row.scopes, row.purpose, scope, purpose):
                found[scope] = row.id
    return found


def grants_covering_all(
    session: Session, principal: Principal, usccs: Collection[str], scopes: Sequence[Scope], purpose: Purpose
) -> dict[str, list[str]]:
    """For a bank caller: the enterprises among `usccs` (registered on the hub) whose grants in force to the
    caller's bank together cover every one of `scopes` for `purpose`, each with the ids of the covering
    grants (sorted). The set-based form of calling `require_consent` per enterprise and scope: one query.

    Empty for anyone else (enterprises and regulators read by `require_consent`'s other bases)."""
    if principal.org_kind not in BANK_KINDS:
        return {}
    wanted = set(usccs)
    found: dict[str, dict[Scope, str]] = {}
    for grant_id, granted, uscc in repo.in_force_to_tenant(
        session, principal.tenant_id, purpose.value, utcnow()
    ):
        if uscc not in wanted:
            continue
        mine = found.setdefault(uscc, {})
        for scope in scopes:
            if scope not in mine and covers(granted, purpose.value, scope, purpose):
                mine[scope] = grant_id
    return {u: sorted(set(by.values())) for u, by in found.items() if all(s in by for s in scopes)}
