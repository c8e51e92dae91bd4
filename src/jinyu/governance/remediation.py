"""Remediation items: opened by checks, assigned by the hub's data team, answered by the provider, verified
by a later check. Every move is recorded as an event and in the audit trail."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import SYSTEM, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.governance import lifecycle, scope
from jinyu.governance.errors import RemediationNotFound
from jinyu.governance.models import CheckRun, RemediationEvent, RemediationItem
from jinyu.governance.rate import Cell
from jinyu.governance.schemas import AssignIn, RemediationOut, RespondIn


def _move(session: Session, item: RemediationItem, to: str, actor: Principal, note: str | None) -> None:
    event = RemediationEvent(
        item_id=item.id, from_status=item.status, to_status=to, actor=actor.subject_id, note=note
    )
    session.add(event)
    audit.record(
        session,
        actor,
        action="governance.remediation",
        subject_type="remediation_item",
        subject_ids=[item.id],
        detail={"from": item.status, "to": to},
    )
    item.status = to
    item.updated_at = utcnow()


SNAPSHOT = "-"  # the period of items of a dataset without a month partition: its defects are not per month


def after_check(session: Session, run: CheckRun, cells: list[Cell], *, snapshot: bool = False) -> None:
    """Open an item per (provider, period, rule) with failures and no item in progress; move the items in
    progress of this dataset as the fresh figures say (verified when the failures are gone). For a dataset
    checked as a snapshot the items have the period `-`, so next month's check continues the same items."""
    current: dict[tuple[str, str, str], int] = {}
    for c in cells:
        key = (c.provider, SNAPSHOT if snapshot else c.period, c.rule_code)
        current[key] = current.get(key, 0) + c.failed
    stmt = select(RemediationItem).where(
        RemediationItem.dataset == run.dataset, RemediationItem.status != lifecycle.VERIFIED
    )
    in_progress = {(i.provider, i.period, i.rule_code): i for i in session.scalars(stmt)}
    for key, item in in_progress.items():
        failed = current.get(key, 0)
        item.failed_now, item.last_run_id = failed, run.id
        target = lifecycle.after_check(item.status, failed)
        if target != item.status:
            _move(session, item, target, SYSTEM, f"check {run.id}: {failed} failing")
    for (provider, period, rule_code), failed in sorted(current.items()):
        if failed and (provider, period, rule_code) not in in_progress:
            item = RemediationItem(
                dataset=run.dataset,
                provider=provider,
                period=period,
                rule_code=rule_code,
                failed_at_open=failed,
                failed_now=failed,
                status=lifecycle.OPEN,
                opened_run_id=run.id,
                last_run_id=run.id,
            )
            session.add(item)
            session.flush()
            session.add(
                RemediationEvent(
                    item_id=item.id,
                    from_status=None,
                    to_status=lifecycle.OPEN,
                    actor=SYSTEM.subject_id,
                    note=f"check {run.id}",
                )
            )


def _readable(session: Session, principal: Principal) -> Select[RemediationItem]:
    stmt = select(RemediationItem)
    visible = scope.provider_codes(session, principal)
    return stmt if visible is None else stmt.where(RemediationItem.provider.in_(sorted(visible)))


def _get(session: Session, principal: Principal, item_id: str) -> RemediationItem:
    item = session.scalars(_readable(session, principal).where(RemediationItem.id == item_id)).first()
    if item is None:  # another provider's item answers as if it did not exist
        raise RemediationNotFound(detail=item_id)
    return item


def list_items(
    session: Session, principal: Principal, *, status: str | None = None, provider: str | None = None
) -> list[RemediationOut]:
    principal.require(Perm.GOVERNANCE_READ)
    stmt = _readable(session, principal)
    if status:
        stmt = stmt.where(RemediationItem.status == status)
    if provider:
        stmt = stmt.where(RemediationItem.provider == provider)
    stmt = stmt.order_by(RemediationItem.provider, RemediationItem.period, RemediationItem.rule_code)
    return [RemediationOut.model_validate(i) for i in session.scalars(stmt)]


def get_item(session: Session, principal: Principal, item_id: str) -> RemediationOut:
    principal.require(Perm.GOVERNANCE_READ)
    return RemediationOut.model_validate(_get(session, principal, item_id))


def assign(session: Session, principal: Principal, item_id: str, data: AssignIn) -> RemediationOut:
    principal.require(Perm.GOVERNANCE_MANAGE)
    item = _get(session, principal, item_id)
    lifecycle.check_move(item.status, lifecycle.ASSIGNED, "manager")
    item.assignee = data.assignee
    _move(session, item, lifecycle.ASSIGNED, principal, data.note)
    return RemediationOut.model_validate(item)


def respond(session: Session, principal: Principal, item_id: str, data: RespondIn) -> RemediationOut:
    """The provider's answer: what was wrong and what it resubmitted. Only its own items (others: 404)."""
    principal.require(Perm.REMEDIATION_RESPOND)
    item = _get(session, principal, item_id)
    lifecycle.check_move(item.status, lifecycle.FIXED, "provider")
    item.response = data.response
    _move(session, item, lifecycle.FIXED, principal, data.response)
    return RemediationOut.model_validate(item)


def history(session: Session, principal: Principal, item_id: str) -> list[dict[str, object]]:
    principal.require(Perm.GOVERNANCE_READ)
    item = _get(session, principal, item_id)
    stmt = select(RemediationEvent).where(RemediationEvent.item_id == item.id).order_by(RemediationEvent.at)
    return [
        {"from": e.from_status, "to": e.to_status, "actor": e.actor, "note": e.note, "at": e.at.isoformat()}
        for e in session.scalars(stmt)
    ]
