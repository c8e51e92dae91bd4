"""Window guidance (窗口指导): the regulator notifies a lagging bank chosen from the indicators, the bank
acknowledges, the regulator follows up; each notice shows its indicator then and now."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.pagination import Page
from jinyu.financing import repository as repo
from jinyu.financing.errors import NoticeNotFound, TransitionNotAllowed
from jinyu.financing.models import GuidanceNotice
from jinyu.financing.schemas import NoticeAck, NoticeCreate, NoticeFollowUp, NoticeOut
from jinyu.financing.service.indicators import bank_value
from jinyu.party.service import lookup

GUIDED_INDICATORS = ("overdue_rate", "contact_rate", "approval_rate", "acceptance_rate")


def _out(session: Session, principal: Principal, notice: GuidanceNotice) -> NoticeOut:
    out = NoticeOut.model_validate(notice)
    now = bank_value(session, principal, notice.bank_id, notice.indicator, local(utcnow()).date())
    out.current = str(now) if now is not None else None
    if now is not None and notice.baseline is not None:
        out.change = str(now - Decimal(notice.baseline))
    return out


def send(session: Session, principal: Principal, data: NoticeCreate) -> NoticeOut:
    principal.require(Perm.FINANCING_SUPERVISE)
    bank = lookup.org_facts(session, data.bank_id)
    problems = []
    if bank is None or bank.kind != OrgKind.BANK_HEAD_OFFICE.value:
        problems.append(FieldError("bank_id", "不是银行总行 / not a bank head office"))
    if data.indicator not in GUIDED_INDICATORS:
        problems.append(FieldError("indicator", f"可选 / one of {', '.join(GUIDED_INDICATORS)}"))
    if problems or bank is None:
        raise InvalidInput(fields=problems)
    baseline = bank_value(session, principal, bank.id, data.indicator, local(utcnow()).date())
    notice = GuidanceNotice(
        bank_id=bank.id,
        bank_path=bank.path,
        indicator=data.indicator,
        baseline=str(baseline) if baseline is not None else None,
        message=data.message,
        sent_by=principal.subject_id,
        sent_at=utcnow(),
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        principal,
        action="financing.guidance.send",
        subject_type="guidance_notice",
        subject_ids=[notice.id],
    )
    return _out(session, principal, notice)


def _notice(session: Session, principal: Principal, notice_id: str) -> GuidanceNotice:
    notice = repo.get_notice(session, principal, notice_id)
    if notice is None:
        raise NoticeNotFound(detail=notice_id)
    return notice


def acknowledge(session: Session, principal: Principal, notice_id: str, data: NoticeAck) -> NoticeOut:
    principal.require(Perm.FINANCING_GUIDANCE_ACK)
    notice = _notice(session, principal, notice_id)
    if notice.acknowledged_at is not None:
        raise TransitionNotAllowed(detail="已确认 / already acknowledged")
    notice.acknowledged_by, notice.acknowledged_at, notice.ack_note = (
        principal.subject_id,
        utcnow(),
        data.note,
    )
    audit.record(
        session,
        principal,
        action="financing.guidance.acknowledge",
        subject_type="guidance_notice",
        subject_ids=[notice.id],
    )
    return _out(session, principal, notice)


def follow_up(session: Session, principal: Principal, notice_id: str, data: NoticeFollowUp) -> NoticeOut:
    principal.require(Perm.FINANCING_SUPERVISE)
    notice = _notice(session, principal, notice_id)
    notice.follow_up_note, notice.followed_up_at = data.note, utcnow()
    audit.record(
        session,
        principal,
        action="financing.guidance.follow_up",
        subject_type="guidance_notice",
        subject_ids=[notice.id],
    )
    return _out(session, principal, notice)


def get(session: Session, principal: Principal, notice_id: str) -> NoticeOut:
    principal.require(Perm.FINANCING_READ)
    notice = _notice(session, principal, notice_id)
    audit.record(
        session,
        principal,
        action="financing.guidance.read",
        subject_type="guidance_notice",
        subject_ids=[notice.id],
    )
    return _out(session, principal, notice)


def list_notices(session: Session, principal: Principal, limit: int, offset: int) -> Page[NoticeOut]:
    principal.require(Perm.FINANCING_READ)
    rows, total = repo.list_notices(session, principal, limit, offset)
    audit.record(
        session,
        principal,
        action="financing.guidance.list",
        subject_type="guidance_notice",
        subject_ids=[r.id for r in rows],
    )
    return Page[NoticeOut](
        items=[_out(session, principal, r) for r in rows], total=total, limit=limit, offset=offset
    )
