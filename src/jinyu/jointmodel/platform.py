"""The platform's register of joint jobs (use cases behind /api/v1/joint and `jinyu joint job ... --as-user`).

A job is registered with the regulator's signed spec (the very job file the parties accept), accepted by its
bank and by the hub (each with its party's signed acceptance and public key; the job is `accepted`, and may be
run and reported, only when both are filed), and closed by the bank's signed report, which registers the model
version with its data snapshot and metrics. Every signature is checked against the key the
record already holds (the regulator's in the job file, then the bank's from its acceptance), so the register
holds what the parties hold. Takes the session first, then the principal; never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.errors import Conflict, InvalidInput, PermissionDenied, invalid
from jinyu.core.pagination import MAX_LIMIT
from jinyu.jointmodel import envelope, jobs, repository
from jinyu.jointmodel.errors import JobNotAccepted, JobUnknown, SignatureRejected
from jinyu.jointmodel.models import JointJob, JointModel
from jinyu.jointmodel.schemas import (
    AcceptanceIn,
    JointJobOut,
    JointModelOut,
    JointPage,
    ReportIn,
    SignedJobIn,
)
from jinyu.party.service.lookup import org_facts

SUBJECT = "joint_job"
FINAL = ("done", "failed")
# The audit trail takes at most this many subject ids an entry; a list read also records its count.
MAX_AUDITED_IDS = 1000


def _model_out(row: JointModel) -> JointModelOut:
    return JointModelOut(
        model_name=row.model_name, version=row.version, job_id=row.job_id, guest_org_id=row.guest_org_id,
        data_snapshot=row.data_snapshot, metrics=row.metrics, registered_by=row.registered_by,
        registered_at=row.registered_at,
    )  # fmt: skip


def _job_out(session: Session, row: JointJob) -> JointJobOut:
    model = repository.model_of_job(session, row.job_id)
    return JointJobOut(
        job_id=row.job_id, model_name=row.model_name, guest_org_id=row.guest_org_id, status=row.status,
        spec=row.spec, spec_sha256=row.spec_sha256, declared_by=row.declared_by, declared_at=row.declared_at,
        accepted_by=row.accepted_by, accepted_at=row.accepted_at, host_accepted_by=row.host_accepted_by,
        host_accepted_at=row.host_accepted_at, reported_at=row.reported_at,
        report_status=(row.report or {}).get("status"), model=_model_out(model) if model else None,
    )  # fmt: skip


def _verified(key: str, body: dict[str, Any], signature: str, field: str) -> None:
    try:
        envelope.verify(key, body, signature)
    except SignatureRejected:
        raise invalid(field, "签名无效 / the signature does not verify") from None


def _signed_spec(document: dict[str, Any]) -> dict[str, Any]:
    spec, key, signature = (document.get(k) for k in ("spec", "regulator_key", "signature"))
    if not isinstance(spec, dict) or not isinstance(key, str) or not isinstance(signature, str):
        raise invalid(
            "document", "须含 spec、regulator_key、signature / needs spec, regulator_key, signature"
        )
    _verified(key, spec, signature, "document.signature")
    needed = ("job_id", "guest", "host", "model_name", "psi", "epochs", "learning_rate", "l2", "batch_size")
    missing = [k for k in (*needed, "valid_share", "bins") if k not in spec]
    if missing:
        raise invalid("document.spec", f"缺少 / missing: {', '.join(missing)}")
    try:
        jobs.validate_spec(spec)
    except InvalidInput as exc:
        raise InvalidInput(detail=exc.detail, fields=exc.fields) from None
    return spec


def declare(session: Session, principal: Principal, data: SignedJobIn) -> JointJobOut:
    """Register a job the regulator's party signed; its bank must be a head office."""
    principal.require(Perm.JOINT_DECLARE)
    spec = _signed_spec(data.document)
    org = org_facts(session, data.guest_org_id)
    if org is None or org.kind != OrgKind.BANK_HEAD_OFFICE:
        raise invalid("guest_org_id", "须为银行总行机构 / must be a bank head office")
    if repository.job_exists(session, spec["job_id"]):
        raise Conflict(detail=f"任务已登记 / job already registered: {spec['job_id']}")
    row = JointJob(
        job_id=spec["job_id"], model_name=spec["model_name"], guest_org_id=org.id, spec=spec,
        spec_sha256=jobs.spec_digest(spec), regulator_key=data.document["regulator_key"],
        signature=data.document["signature"], status="declared", declared_by=principal.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, principal, action="joint.job.declare", subject_type=SUBJECT, subject_ids=[row.job_id],
        detail={"guest_org_id": org.id, "spec_sha256": row.spec_sha256, "model_name": row.model_name},
    )  # fmt: skip
    return _job_out(session, row)


def _own_job(session: Session, principal: Principal, job_id: str) -> JointJob:
    row = repository.job(session, principal, job_id)
    if row is None:  # another bank's job answers the same as a job that does not exist
        raise JobUnknown(detail=f"没有任务 / no joint job {job_id}")
    return row


def _check_acceptance(row: JointJob, data: AcceptanceIn, role: str) -> None:
    """The party's signature over its acceptance, of this job's very spec (same digest), in its role."""
    body = {k: v for k, v in data.acceptance.items() if k != "signature"}
    _verified(data.public_key, body, str(data.acceptance.get("signature", "")), "acceptance.signature")
    expected = {"job_id": row.job_id, "spec_sha256": row.spec_sha256, "party": row.spec[role], "role": role}
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong:
        raise invalid(f"acceptance.{wrong[0]}", f"须为 / must be {expected[wrong[0]]}")


def _file_acceptance(
    session: Session, principal: Principal, row: JointJob, data: AcceptanceIn, role: str
) -> JointJobOut:
    _check_acceptance(row, data, role)
    key = row.guest_key if role == "guest" else row.host_key
    if key is not None:
        if key == data.public_key:
            return _job_out(session, row)  # the same acceptance again: idempotent
        raise Conflict(detail=f"{row.spec[role]} 已接受任务 / has already accepted job {row.job_id}")
    if row.status != "declared":
        raise Conflict(detail=f"任务已是 {row.status} / job {row.job_id} is {row.status}")
    if role == "guest":
        row.guest_key, row.acceptance = data.public_key, data.acceptance
        row.accepted_by, row.accepted_at = principal.username, utcnow()
    else:
        row.host_key, row.host_acceptance = data.public_key, data.acceptance
        row.host_accepted_by, row.host_accepted_at = principal.username, utcnow()
    if row.guest_key is not None and row.host_key is not None:
        row.status = "accepted"  # every party has accepted: the job may run
    session.flush()
    audit.record(
        session, principal, action="joint.job.accept", subject_type=SUBJECT, subject_ids=[row.job_id],
        detail={"spec_sha256": row.spec_sha256, "party": row.spec[role], "role": role, "status": row.status}
        | ({"declared_by": row.declared_by} if role == "host" else {}),
    )  # fmt: skip
    return _job_out(session, row)


def accept(session: Session, principal: Principal, job_id: str, data: AcceptanceIn) -> JointJobOut:
    """The bank records its party's signed acceptance of the very spec registered (same digest)."""
    principal.require(Perm.JOINT_ACCEPT)
    return _file_acceptance(session, principal, _own_job(session, principal, job_id), data, "guest")


def accept_host(session: Session, principal: Principal, job_id: str, data: AcceptanceIn) -> JointJobOut:
    """The hub's acceptance (the hub is the regulator's node), filed under its own permission `joint.host_accept`
    and never by the user who declared the job: declaring and accepting for the hub are separate duties."""
    principal.require(Perm.JOINT_HOST_ACCEPT)
    row = _own_job(session, principal, job_id)
    if row.declared_by == principal.username:
        raise PermissionDenied(
            detail=f"申报人不得代平台节点接受同一任务 / the user who declared job {row.job_id} may not also "
            "file the hub's acceptance of it"
        )
    return _file_acceptance(session, principal, row, data, "host")


def require_all_accepted(session: Session, principal: Principal, job_id: str) -> JointJobOut:
    """Before a run filed to the platform: every party's acceptance is on the register (else 409)."""
    principal.require(Perm.JOINT_READ)
    row = _own_job(session, principal, job_id)
    missing = [r for r, key in (("guest", row.guest_key), ("host", row.host_key)) if key is None]
    if missing:
        names = ", ".join(row.spec[r] for r in missing)
        raise JobNotAccepted(detail=f"尚未接受任务 / not yet accepted on the platform by: {names}")
    return _job_out(session, row)


def _check_report(row: JointJob, data: ReportIn) -> dict[str, Any]:
    if row.guest_key is None or row.host_key is None:
        raise JobNotAccepted(detail=f"各方尚未都接受任务 / not every party has accepted job {row.job_id}")
    _verified(row.guest_key, data.report, data.signature, "signature")
    body = data.report
    expected = {"job_id": row.job_id, "spec_sha256": row.spec_sha256, "party": row.spec["guest"]}
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong:
        raise invalid(f"report.{wrong[0]}", f"须为 / must be {expected[wrong[0]]}")
    if body.get("status") == "done":
        if body.get("model") != row.model_name or not isinstance(body.get("version"), int):
            raise invalid(
                "report.model", f"须为模型 {row.model_name} 及版本号 / must name the model and version"
            )
        if not isinstance(body.get("data_snapshot"), dict) or not isinstance(body.get("metrics"), dict):
            raise invalid("report.data_snapshot", "完成的任务须有数据快照和指标 / a done job needs both")
    return body


def _register_model(session: Session, principal: Principal, row: JointJob, body: dict[str, Any]) -> None:
    existing = repository.model_of_job(session, row.job_id)
    if existing is not None:
        return  # a report filed again registers nothing new
    if repository.version_taken(session, row.guest_org_id, row.model_name, body["version"]):
        raise Conflict(detail=f"模型版本已存在 / {row.model_name} v{body['version']} is another job's")
    session.add(
        JointModel(
            model_name=row.model_name, version=body["version"], job_id=row.job_id,
            guest_org_id=row.guest_org_id, data_snapshot=body["data_snapshot"], metrics=body["metrics"],
            registered_by=principal.username,
        )
    )  # fmt: skip
    session.flush()
    audit.record(
        session, principal, action="joint.model.register", subject_type="joint_model",
        subject_ids=[f"{row.guest_org_id}/{row.model_name}:v{body['version']}"], detail={"job_id": row.job_id},
    )  # fmt: skip


def report(session: Session, principal: Principal, job_id: str, data: ReportIn) -> JointJobOut:
    """The bank files its party's signed report; a done job registers its model version."""
    principal.require(Perm.JOINT_ACCEPT)
    row = _own_job(session, principal, job_id)
    body = _check_report(row, data)
    if row.status == "done" and body.get("status") != "done":
        raise Conflict(detail=f"任务已完成 / job {job_id} is done")
    row.report, row.reported_at = {"report": body, "signature": data.signature}, utcnow()
    row.status = body["status"] if body.get("status") in FINAL else "accepted"
    session.flush()
    if row.status == "done":
        _register_model(session, principal, row, body)
    audit.record(
        session, principal, action="joint.job.report", subject_type=SUBJECT, subject_ids=[job_id],
        detail={"status": row.status, "audit_head": body.get("audit_head")},
    )  # fmt: skip
    return _job_out(session, row)


def get_job(session: Session, principal: Principal, job_id: str) -> JointJobOut:
    principal.require(Perm.JOINT_READ)
    row = _own_job(session, principal, job_id)
    audit.record(session, principal, action="joint.job.read", subject_type=SUBJECT, subject_ids=[job_id])
    return _job_out(session, row)


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"须在 1..{MAX_LIMIT} / must be 1..{MAX_LIMIT}")
    return limit


def list_jobs(
    session: Session,
    principal: Principal,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> JointPage[JointJobOut]:
    """Jobs newest first, a page at a time; `cursor` is the previous page's `next_cursor` (its last job id)."""
    principal.require(Perm.JOINT_READ)
    limit = _page_size(limit)
    after = repository.job(session, principal, cursor) if cursor else None
    if cursor and after is None:
        raise invalid("cursor", "无效游标 / invalid cursor")
    rows = repository.jobs(session, principal, status, limit, after)
    more, rows = len(rows) > limit, rows[:limit]
    audit.record(
        session, principal, action="joint.job.list", subject_type=SUBJECT,
        subject_ids=[r.job_id for r in rows][:MAX_AUDITED_IDS],
        detail={"status": status, "count": len(rows), "cursor": cursor},
    )  # fmt: skip
    return JointPage[JointJobOut](
        items=[_job_out(session, r) for r in rows], limit=limit, next_cursor=rows[-1].job_id if more else None
    )


def list_models(
    session: Session,
    principal: Principal,
    model_name: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> JointPage[JointModelOut]:
    """Model versions by name, newest version first; `cursor` is the previous page's last model's job id."""
    principal.require(Perm.JOINT_READ)
    limit = _page_size(limit)
    after = repository.model_by_job(session, principal, cursor) if cursor else None
    if cursor and after is None:
        raise invalid("cursor", "无效游标 / invalid cursor")
    rows = repository.models(session, principal, model_name, limit, after)
    more, rows = len(rows) > limit, rows[:limit]
    audit.record(
        session, principal, action="joint.model.list", subject_type="joint_model",
        subject_ids=[f"{r.guest_org_id}/{r.model_name}:v{r.version}" for r in rows][:MAX_AUDITED_IDS],
        detail={"count": len(rows), "cursor": cursor},
    )  # fmt: skip
    return JointPage[JointModelOut](
        items=[_model_out(r) for r in rows], limit=limit, next_cursor=rows[-1].job_id if more else None
    )
