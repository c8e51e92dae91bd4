"""Level approvals on consent grants: record (regulator supervisors), list (the grant's parties and
regulators), and the approval a read rests on. Never commits: the boundary does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.consent import service as consent
from jinyu.consent.rules import in_force as grant_in_force
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.errors import invalid
from jinyu.governance.policy.approval_rules import in_force, window_problem
from jinyu.governance.policy.errors import ApprovalNotFound, ApprovalNotInForce, GrantNotInForce
from jinyu.governance.policy.models import LevelApproval
from jinyu.governance.policy.protect import current
from jinyu.governance.policy.schemas import ApprovalCreate, ApprovalOut, ApprovalRevoke


def approve(session: Session, principal: Principal, grant_id: str, data: ApprovalCreate) -> ApprovalOut:
    """Record a supervisor's approval opening level `data.level` data to the grant's bank, time-boxed."""
    principal.require(Perm.POLICY_APPROVE)
    grant = consent.get(session, principal, grant_id)  # 404 when the caller may not see it
    now = utcnow()
    if not grant_in_force(grant.state, grant.valid_from, grant.valid_until, now):
        raise GrantNotInForce(detail=grant_id)
    start = data.valid_from or now
    if problem := window_problem(start, data.valid_until, grant.valid_until):
        raise invalid("valid_until", problem)
    row = LevelApproval(
        grant_id=grant.id,
        level=data.level,
        reason=data.reason,
        valid_from=start,
        valid_until=data.valid_until,
        policy_version=current().version,
        approved_by=principal.subject_id,
        approver_org_id=principal.org_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        action="policy.approval.create",
        subject_type="consent_grant",
        subject_ids=[grant.id],
        detail={"approval_id": row.id, "level": row.level, "policy_version": row.policy_version},
    )
    return _out(row, now)


def list_approvals(session: Session, principal: Principal, grant_id: str) -> list[ApprovalOut]:
    grant = consent.get(session, principal, grant_id)  # scoping: the grant's two parties and regulators
    rows = session.scalars(
        select(LevelApproval).where(LevelApproval.grant_id == grant.id).order_by(LevelApproval.created_at)
    ).all()
    audit.record(
        session,
        principal,
        action="policy.approval.list",
        subject_type="consent_grant",
        subject_ids=[grant.id],
        detail={"count": len(rows)},
    )
    now = utcnow()
    return [_out(r, now) for r in rows]


def revoke(
    session: Session, principal: Principal, grant_id: str, approval_id: str, data: ApprovalRevoke
) -> ApprovalOut:
    """End an approval before its time (a supervisor): every read from now on is as if it never existed."""
    principal.require(Perm.POLICY_APPROVE)
    grant = consent.get(session, principal, grant_id)  # 404 when the caller may not see it
    row = session.get(LevelApproval, approval_id)
    if row is None or row.grant_id != grant.id:
        raise ApprovalNotFound(detail=approval_id)
    now = utcnow()
    if not in_force(row.valid_from, row.valid_until, now, row.revoked_at):
        raise ApprovalNotInForce(detail=approval_id)
    row.revoked_at, row.revoked_by, row.revoke_reason = now, principal.subject_id, data.reason
    session.flush()
    audit.record(
        session,
        principal,
        action="policy.approval.revoke",
        subject_type="consent_grant",
        subject_ids=[grant.id],
        detail={"approval_id": row.id, "level": row.level, "reason": data.reason},
    )
    return _out(row, now)


def approved_level(
    session: Session, grant_ids: Iterable[str], at: dt.datetime | None = None
) -> tuple[int, str | None]:
    """The highest level approved and in force on any of these grants, and that approval's id (0, None)."""
    ids = [g for g in grant_ids if g not in ("own", "regulator")]
    if not ids:
        return 0, None
    moment = at or utcnow()
    rows = session.scalars(select(LevelApproval).where(LevelApproval.grant_id.in_(ids))).all()
    live = [r for r in rows if in_force(r.valid_from, r.valid_until, moment, r.revoked_at)]
    if not live:
        return 0, None
    best = max(live, key=lambda r: (r.level, r.valid_until))
    return best.level, best.id


def approved_levels(
    session: Session, grants: Mapping[str, Sequence[str]], at: dt.datetime | None = None
) -> dict[str, tuple[int, str | None]]:
    """`approved_level` for many readers at once ({key: its grant ids}), reading the approvals in chunks of
    500 grant ids rather than once per key. Keys without an approval in force get (0, None)."""
    moment = at or utcnow()
    ids = sorted({g for gs in grants.values() for g in gs if g not in ("own", "regulator")})
    live: dict[str, list[LevelApproval]] = {}
    for start in range(0, len(ids), 500):
        stmt = select(LevelApproval).where(LevelApproval.grant_id.in_(ids[start : start + 500]))
        for r in session.scalars(stmt):
            if in_force(r.valid_from, r.valid_until, moment, r.revoked_at):
                live.setdefault(r.grant_id, []).append(r)
    out: dict[str, tuple[int, str | None]] = {}
    for key, gs in grants.items():
        rows = [r for g in gs for r in live.get(g, [])]
        best = max(rows, key=lambda r: (r.level, r.valid_until)) if rows else None
        out[key] = (best.level, best.id) if best else (0, None)
    return out


def _out(row: LevelApproval, now: dt.datetime) -> ApprovalOut:
    names = [n for n in ApprovalOut.model_fields if n != "in_force"]
    return ApprovalOut(
        **{n: getattr(row, n) for n in names},
        in_force=in_force(row.valid_from, row.valid_until, now, row.revoked_at),
    )
