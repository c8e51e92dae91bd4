"""The platform's register of joint jobs (use cases behind /api/v1/joint and `jinyu joint job ... --as-user`).

A job is registered with the regulator's signed spec (the very job file the parties accept), accepted by its
bank with the bank party's signed acceptance and public key, and closed by the bank's signed report, which
registers the model version with its data snapshot and metrics. Every signature is checked against the key the
record already holds (the regulator's in the job file, then the bank's from its acceptance), so the register
holds what the parties hold. Takes the session first, then the principal; never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.errors import Conflict, InvalidInput, invalid
from jinyu.jointmodel import envelope, jobs, repository
from jinyu.jointmodel.errors import JobNotAccepted, JobUnknown, SignatureRejected
from jinyu.jointmodel.models import JointJob, JointModel
from jinyu.jointmodel.schemas import AcceptanceIn, JointJobOut, JointModelOut, ReportIn, SignedJobIn
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
        accepted_by=row.accepted_by, accepted_at=row.accepted_at, reported_at=row.reported_at,
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


def accept(session: Session, principal: Principal, job_id: str, data: AcceptanceIn) -> JointJobOut:
    """The bank records its party's signed acceptance of the very spec registered (same digest)."""
    principal.require(Perm.JOINT_ACCEPT)
    row = _own_job(session, principal, job_id)
    body = {k: v for k, v in data.acceptance.items() if k != "signature"}
    _verified(data.public_key, body, str(data.acceptance.get("signature", "")), "acceptance.signature")
    expected = {
        "job_id": row.job_id,
        "spec_sha256": row.spec_sha256,
        "party": row.spec["guest"],
        "role": "guest",
    }
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong:
        raise invalid(f"acceptance.{wrong[0]}", f"须为 / must be {expected[wrong[0]]}")
    if row.status != "declared":
        if row.guest_key == data.public_key:
            return _job_out(session, row)  # the same acceptance again: idempotent
        raise Conflict(detail=f"任务已被接受 / job already accepted: {job_id}")
    row.guest_key, row.acceptance, row.status = data.public_key, data.acceptance, "accepted"
    row.accepted_by, row.accepted_at = principal.username, utcnow()
    session.flush()
    audit.record(
        session, principal, action="joint.job.accept", subject_type=SUBJECT, subject_ids=[job_id],
        detail={"spec_sha256": row.spec_sha256, "party": row.spec["guest"]},
    )  # fmt: skip
    return _job_out(session, row)


def _check_report(row: JointJob, data: ReportIn) -> dict[str, Any]:
    if row.guest_key is None:
        raise JobNotAccepted(detail=f"银行尚未接受任务 / the bank has not accepted job {row.job_id}")
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


def list_jobs(session: Session, principal: Principal, status: str | None = None) -> list[JointJobOut]:
    principal.require(Perm.JOINT_READ)
    rows = repository.jobs(session, principal, status)
    audit.record(
        session, principal, action="joint.job.list", subject_type=SUBJECT,
        subject_ids=[r.job_id for r in rows][:MAX_AUDITED_IDS], detail={"status": status, "count": len(rows)},
    )  # fmt: skip
    return [_job_out(session, r) for r in rows]


def list_models(session: Session, principal: Principal, model_name: str | None = None) -> list[JointModelOut]:
    principal.require(Perm.JOINT_READ)
    rows = repository.models(session, principal, model_name)
    audit.record(
        session, principal, action="joint.model.list", subject_type="joint_model",
        subject_ids=[f"{r.guest_org_id}/{r.model_name}:v{r.version}" for r in rows][:MAX_AUDITED_IDS],
        detail={"count": len(rows)},
    )  # fmt: skip
    return [_model_out(r) for r in rows]
