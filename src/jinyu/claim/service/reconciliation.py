"""Daily reconciliation with a hospital (日对账): every record compared; corrections are new entries.

The hospital uploads its file for one business day (Asia/Shanghai): declared totals and one record per
settlement. Every record is compared with ours, whatever the totals say (totals that agree can hide errors
that cancel out); the totals are kept as a report. The same file twice is the same run (nothing changes the
second time, also when the copies arrive at once: the run's unique key decides which one runs, the others
answer it); a corrected file is a new run against the state the first one left, so no correction is ever
applied twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import ReconciliationFileInvalid, ReconciliationNotFound
from jinyu.claim.models import ClaimReconciliationItem, ClaimReconciliationRun, ClaimSettlement
from jinyu.claim.rules import reconcile as rules
from jinyu.claim.rules.reconcile import Finding
from jinyu.claim.schemas import ReconFileIn, ReconItemOut, ReconRunOut
from jinyu.claim.service import booking
from jinyu.claim.service.common import request_hash, require_org
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError
from jinyu.core.pagination import Page
from jinyu.governance.policy.protect import Reader, protect

_NOTE = {
    Finding.CONFIRMED_PENDING: "对账确认 / confirmed by reconciliation",
    Finding.VOIDED_PENDING: "对账作废：医院无此结算，转出院后理赔 / voided by reconciliation: the hospital has no "
    "record, basic insurance was settled alone",
    Finding.REVERSED: "对账冲正：医院已撤销 / reversed by reconciliation: the hospital cancelled it",
}


def _check_file(data: ReconFileIn) -> list[rules.Theirs]:
    theirs = [rules.Theirs((r.mdtrt_id, r.setl_id), r.status, r.payout) for r in data.records]
    problems: list[FieldError] = []
    keys = [t.key for t in theirs]
    if len(set(keys)) != len(keys):
        problems.append(FieldError("records", "同一结算出现多次 / a settlement is listed twice"))
    totals = rules.their_totals(theirs)
    if totals != rules.Totals(data.total_count, data.total_payout):
        problems.append(
            FieldError(
                "total_payout",
                f"文件合计与明细不符：明细 {totals.count} 笔 {totals.total} / declared totals do not match the records",
            )
        )
    if problems:
        raise ReconciliationFileInvalid(detail="; ".join(p.message for p in problems), fields=problems)
    return theirs


def reconcile(session: Session, principal: Principal, data: ReconFileIn) -> ReconRunOut:
    """Reconcile the calling hospital's day; idempotent for the same file."""
    return reconcile_file(session, principal, data)[0]


def reconcile_file(session: Session, principal: Principal, data: ReconFileIn) -> tuple[ReconRunOut, bool]:
    """The run for this file, and whether it was made before (by an earlier or a concurrent copy)."""
    principal.require(Perm.CLAIM_SETTLE)
    require_org(principal, OrgKind.HOSPITAL)
    theirs = _check_file(data)
    file_hash = request_hash(data.model_dump(mode="json"))
    hospital_id = principal.org_id
    run = repo.run_for_file(session, hospital_id, data.business_date, file_hash)
    if run is not None:
        return _out(run, repo.run_items(session, run.id)), True
    ours_rows = _lock_day(session, hospital_id, data)
    ours = [rules.Ours((s.mdtrt_id, s.setl_id), s.id, s.status, s.payout) for s in ours_rows.values()]
    declared = rules.Totals(data.total_count, data.total_payout)
    before = rules.our_totals(ours)
    run = ClaimReconciliationRun(
        id=new_id(),
        hospital_id=hospital_id,
        business_date=data.business_date,
        file_hash=file_hash,
        status="matched",
        totals_match=before == declared,  # reported; never a reason to skip the detail
        their_count=declared.count,
        their_total=declared.total,
        our_count=before.count,
        our_total=before.total,
        created_by=principal.subject_id,
        created_at=utcnow(),
    )
    if not _claim_run(session, run):  # a concurrent copy of the file made the run: answer that one
        done = repo.run_for_file(session, hospital_id, data.business_date, file_hash)
        assert done is not None
        return _out(done, repo.run_items(session, done.id)), True
    findings = rules.compare(ours, theirs)  # always in detail
    items: list[ClaimReconciliationItem] = []
    for f in findings:
        settlement = ours_rows.get(f.settlement_id or "")
        if f.is_correction and settlement is not None:
            _correct(session, settlement, f.finding, principal.subject_id)
        items.append(
            ClaimReconciliationItem(
                id=new_id(),
                run_id=run.id,
                mdtrt_id=f.key[0],
                setl_id=f.key[1],
                finding=f.finding.value,
                settlement_id=f.settlement_id,
                our_status=f.our_status,
                our_amount=f.our_amount,
                their_status=f.their_status,
                their_amount=f.their_amount,
                corrected=f.is_correction,
            )
        )
    session.add_all(items)
    run.corrections = sum(1 for i in items if i.corrected)
    run.discrepancies = len(items) - run.corrections
    run.status = "matched" if not items else ("discrepancies" if run.discrepancies else "corrected")
    session.flush()
    audit.record(
        session,
        principal,
        action="claim.reconciliation.run",
        subject_type="claim_reconciliation",
        subject_ids=[run.id],
        detail={
            "date": data.business_date.isoformat(),
            "status": run.status,
            "corrections": run.corrections,
            "discrepancies": run.discrepancies,
        },
    )
    return _out(run, items), False


def _claim_run(session: Session, run: ClaimReconciliationRun) -> bool:
    """Insert the run before anything else: its unique key (hospital, day, file) lets one copy of a file run.
    On PostgreSQL a concurrent copy's insert waits for the first transaction and fails once it commits."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        if repo.run_for_file(session, run.hospital_id, run.business_date, run.file_hash) is None:
            raise
        return False
    return True


def _lock_day(session: Session, hospital_id: str, data: ReconFileIn) -> dict[str, ClaimSettlement]:
    """The day's direct settlements, with their persons' rows locked (in id order) when anything may change."""
    rows = repo.direct_settlements_of_day(session, hospital_id, data.business_date)
    pending = {s.enrollment_id for s in rows if s.enrollment_id and s.status in ("pending", "settled")}
    for enrollment_id in sorted(pending):
        repo.lock_enrollment(session, enrollment_id)
    if pending:  # re-read what concurrent settlements or cancellations may have changed before the locks
        rows = repo.direct_settlements_of_day(session, hospital_id, data.business_date)
    return {s.id: s for s in rows}


def _correct(session: Session, settlement: ClaimSettlement, finding: Finding, actor: str) -> None:
    if finding == Finding.CONFIRMED_PENDING:
        booking.commit(session, settlement, actor)
    elif finding == Finding.VOIDED_PENDING:
        booking.release(session, settlement, actor, "voided", _NOTE[finding])
    elif finding == Finding.REVERSED:
        booking.reverse(session, settlement, actor, _NOTE[finding])
    session.flush()


def _out(run: ClaimReconciliationRun, items: list[ClaimReconciliationItem]) -> ReconRunOut:
    return ReconRunOut(
        id=run.id,
        hospital_id=run.hospital_id,
        business_date=run.business_date,
        status=run.status,
        totals_match=run.totals_match,
        their_count=run.their_count,
        their_total=run.their_total,
        our_count=run.our_count,
        our_total=run.our_total,
        corrections=run.corrections,
        discrepancies=run.discrepancies,
        created_at=run.created_at,
        items=[ReconItemOut.model_validate(i) for i in items],
    )


def get_run(session: Session, principal: Principal, run_id: str) -> ReconRunOut:
    principal.require(Perm.CLAIM_READ)
    run = repo.get_run(session, principal, run_id)
    if run is None:
        message = "无此对账记录 / no such reconciliation run of this organisation"
        raise ReconciliationNotFound(detail=run_id, fields=[FieldError("run_id", message)])
    return _out(run, repo.run_items(session, run.id))


def list_runs(
    session: Session, principal: Principal, business_date: dt.date | None, limit: int, offset: int
) -> Page[ReconRunOut]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_runs(session, principal, business_date, limit, offset)
    page = Page[ReconRunOut](items=[_out(r, []) for r in rows], total=total, limit=limit, offset=offset)
    return protect(page, Reader(principal))  # the console's claims page reads this too
