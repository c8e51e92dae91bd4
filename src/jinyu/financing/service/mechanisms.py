"""Financing mechanisms run by the platform: chain chief banks per industrial chain (used by routing) and
financial consultants assigned to enterprises (they read those enterprises' orders)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal, Role
from jinyu.core.clock import utcnow
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.financing import repository as repo
from jinyu.financing.models import ChainChief, ConsultantAssignment
from jinyu.financing.schemas import ChainChiefSet, ConsultantAssign
from jinyu.party.service import lookup


def set_chain_chief(session: Session, principal: Principal, data: ChainChiefSet) -> ChainChiefSet:
    principal.require(Perm.FINANCING_MANAGE)
    bank = lookup.org_facts(session, data.bank_id)
    if bank is None or bank.kind != OrgKind.BANK_HEAD_OFFICE.value:
        raise InvalidInput(fields=[FieldError("bank_id", "不是银行总行 / not a bank head office")])
    chief = repo.chain_chief(session, data.chain_code)
    before = chief.bank_id if chief else None
    if chief is None:
        chief = ChainChief(chain_code=data.chain_code, bank_id=bank.id, appointed_by=principal.subject_id)
        session.add(chief)
    chief.bank_id, chief.appointed_by, chief.appointed_at = bank.id, principal.subject_id, utcnow()
    session.flush()
    audit.record(
        session, principal, action="financing.chain_chief.set", subject_type="industrial_chain",
        subject_ids=[data.chain_code], detail={"from": before, "to": bank.id},
    )  # fmt: skip
    return data


def list_chain_chiefs(session: Session, principal: Principal) -> list[ChainChiefSet]:
    principal.require(Perm.FINANCING_READ)
    return [
        ChainChiefSet(chain_code=c.chain_code, bank_id=c.bank_id) for c in repo.list_chain_chiefs(session)
    ]


def assign_consultant(session: Session, principal: Principal, data: ConsultantAssign) -> ConsultantAssign:
    principal.require(Perm.FINANCING_MANAGE)
    problems = []
    user = lookup.user_facts(session, data.consultant_id)
    if user is None or not user.active or Role.FINANCIAL_CONSULTANT.value not in user.roles:
        problems.append(FieldError("consultant_id", "不是在职金融顾问 / not an active financial consultant"))
    enterprise = lookup.org_facts(session, data.enterprise_id)
    if enterprise is None or enterprise.kind != OrgKind.ENTERPRISE.value:
        problems.append(FieldError("enterprise_id", "不是企业 / not an enterprise"))
    if problems:
        raise InvalidInput(fields=problems)
    if repo.find_assignment(session, data.consultant_id, data.enterprise_id) is None:
        session.add(
            ConsultantAssignment(
                consultant_id=data.consultant_id,
                enterprise_id=data.enterprise_id,
                assigned_by=principal.subject_id,
            )
        )
        session.flush()
    audit.record(
        session, principal, action="financing.consultant.assign", subject_type="organisation",
        subject_ids=[data.enterprise_id], detail={"consultant_id": data.consultant_id},
    )  # fmt: skip
    return data
