"""Real-name registration (实名注册) of an enterprise by its administrator, checked against the registry.

The legal representative's ID is validated, pseudonymized with the hub's key and compared with the
registry's token; a match verifies at once, anything else waits for a reviewer with the reason stated.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.db import new_id
from jinyu.core.errors import PermissionDenied
from jinyu.core.ids import validate_resident_id
from jinyu.core.pagination import Page
from jinyu.core.privacy import PERSON_DOMAIN, Keys, mask, mask_name, pseudonymize
from jinyu.party import repository as repo
from jinyu.party.errors import (
    OrganisationNotFound,
    RegistrationExists,
    RegistrationNotFound,
    RegistrationStateInvalid,
)
from jinyu.party.models import Registration, RegistrationEvent
from jinyu.party.rules import RegistrationState, can_transition
from jinyu.party.schemas import RegistrationDecision, RegistrationOut, RegistrationSubmit

MATCHED = "与登记机关的法定代表人信息一致，自动核验通过 / matches the registry's legal representative"
MISMATCH = "与登记机关的法定代表人信息不一致，待人工审核 / does not match the registry: manual review"
NO_REGISTRY = "登记机关暂无该企业法定代表人信息，待人工审核 / registry has no representative: manual review"


def person_token(key: Keys, resident_id: str) -> str:
    return pseudonymize(key, resident_id, PERSON_DOMAIN)


def submit_registration(
    session: Session, principal: Principal, data: RegistrationSubmit, pseudonym_key: Keys
) -> RegistrationOut:
    principal.require(Perm.ENTERPRISE_REGISTER)
    if principal.org_kind != OrgKind.ENTERPRISE:
        raise PermissionDenied(detail="仅企业可实名注册 / only enterprises register")
    org = repo.get_org_unscoped(session, principal.org_id)
    if org is None:
        raise OrganisationNotFound(detail=principal.org_id)
    existing = repo.get_registration_for_org(session, org.id)
    if existing is not None and existing.state != RegistrationState.REJECTED:
        raise RegistrationExists(detail=f"{org.code}: {existing.state}")
    resident_id = validate_resident_id(data.legal_rep_id.get_secret_value(), "legal_rep_id")
    token = person_token(pseudonym_key, resident_id)
    state, reason = _match(org.legal_rep_token, token)
    reg = existing or Registration(id=new_id(), org_id=org.id, submitted_by=principal.subject_id)
    before = existing.state if existing else None
    reg.legal_rep_token, reg.legal_rep_masked = token, mask(resident_id, 6, 4) or ""
    reg.legal_rep_name_masked = mask_name(data.legal_rep_name) or ""
    reg.state, reg.reason = state.value, reason
    session.add(reg)
    session.flush()
    _event(session, principal, reg, before)
    return RegistrationOut.model_validate(reg)


def _match(registry_token: str | None, token: str) -> tuple[RegistrationState, str]:
    if registry_token is None:
        return RegistrationState.PENDING, NO_REGISTRY
    if registry_token == token:
        return RegistrationState.VERIFIED, MATCHED
    return RegistrationState.PENDING, MISMATCH


def _event(session: Session, principal: Principal, reg: Registration, before: str | None) -> None:
    session.add(
        RegistrationEvent(
            registration_id=reg.id,
            from_state=before,
            to_state=reg.state,
            reason=reg.reason,
            actor_id=principal.subject_id,
        )
    )
    audit.record(
        session,
        principal,
        action="party.registration.transition",
        subject_type="registration",
        subject_ids=[reg.id],
        detail={"from": before, "to": reg.state},
    )


def decide_registration(
    session: Session, principal: Principal, registration_id: str, decision: RegistrationDecision
) -> RegistrationOut:
    principal.require(Perm.ENTERPRISE_REVIEW)
    reg = repo.get_registration(session, principal, registration_id)
    if reg is None:
        raise RegistrationNotFound(detail=registration_id)
    before = RegistrationState(reg.state)
    if not can_transition(before, decision.state):
        raise RegistrationStateInvalid(detail=f"{before.value} → {decision.state.value}")
    reg.state, reg.reason, reg.decided_by = decision.state.value, decision.reason, principal.subject_id
    session.flush()
    _event(session, principal, reg, before.value)
    return RegistrationOut.model_validate(reg)


def get_registration(session: Session, principal: Principal, registration_id: str) -> RegistrationOut:
    principal.require(Perm.ORG_READ)
    reg = repo.get_registration(session, principal, registration_id)
    if reg is None:
        raise RegistrationNotFound(detail=registration_id)
    audit.record(
        session,
        principal,
        action="party.registration.read",
        subject_type="registration",
        subject_ids=[reg.id],
    )
    return RegistrationOut.model_validate(reg)


def list_registrations(
    session: Session, principal: Principal, state: str | None, limit: int, offset: int
) -> Page[RegistrationOut]:
    principal.require(Perm.ORG_READ)
    rows, total = repo.list_registrations(session, principal, state, limit, offset)
    audit.record(
        session,
        principal,
        action="party.registration.list",
        subject_type="registration",
        subject_ids=[r.id for r in rows],
    )
    items = [RegistrationOut.model_validate(r) for r in rows]
    return Page[RegistrationOut](items=items, total=total, limit=limit, offset=offset)


def registration_verified(session: Session, org_id: str) -> bool:
    """Whether the enterprise's real-name registration is verified (what its own card view requires)."""
    reg = repo.get_registration_for_org(session, org_id)
    return reg is not None and reg.state == RegistrationState.VERIFIED
