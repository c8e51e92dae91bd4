"""Use cases of joint modelling for the CLI: each works on one party's data dir (and, for the platform's
register, a session and the acting principal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jinyu.core.auth import Principal
from jinyu.jointmodel import envelope, guest, jobs, platform
from jinyu.jointmodel.errors import BadPartyData
from jinyu.jointmodel.journal import read_audit, read_capture, verify_audit
from jinyu.jointmodel.party import PartyDir
from jinyu.jointmodel.registry import entries
from jinyu.jointmodel.report import make as make_report
from jinyu.jointmodel.schemas import AcceptanceIn, JointJobOut, ReportIn, SignedJobIn


def init_party(
    path: Path, name: str, role: str, data: Path | None, id_column: str, label_column: str
) -> dict[str, Any]:
    party = PartyDir.init(path, name, role, data, id_column, label_column)
    return {"name": party.name, "role": party.role, "public_key": party.public_key, "dir": str(path)}


def trust(path: Path, name: str, key: str) -> dict[str, Any]:
    PartyDir(path).trust(name, key)
    return {"trusted": name, "public_key": key}


def create_job(path: Path, out: Path | None, **spec: Any) -> dict[str, Any]:
    document = jobs.create(PartyDir(path), **spec)
    target = out or PartyDir(path).job_dir(document["spec"]["job_id"]) / "job.json"
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return {"job_file": str(target), **document["spec"]}


def accept_job(path: Path, job_file: Path) -> dict[str, Any]:
    if not job_file.exists():
        raise BadPartyData(detail=f"任务文件不存在 / job file missing: {job_file}")
    return jobs.accept(PartyDir(path), job_file)


def run_job(path: Path, job_id: str, host_url: str, ca_file: Path | None = None) -> dict[str, Any]:
    party = PartyDir(path)
    if party.role != "guest":
        raise BadPartyData(detail="任务由 guest（银行）发起运行 / a job is run from the guest's (bank's) dir")
    return guest.run(party, job_id, host_url, ca_file=ca_file)


def show_job(path: Path, job_id: str) -> dict[str, Any]:
    party = PartyDir(path)
    job_dir = party.job_dir(job_id)
    frames = list(read_capture(job_dir / "capture.bin"))
    spec = json.loads((job_dir / "job.json").read_text())["spec"]
    return {
        "party": party.name,
        "role": party.role,
        "spec": spec,
        "state": party.state(job_id),
        "audit_entries": verify_audit(job_dir / "audit.jsonl"),
        "audit_events": [e["event"] for e in read_audit(job_dir / "audit.jsonl")],
        "captured_frames": len(frames),
        "captured_bytes": sum(len(f) for _, f in frames),
    }


def list_models(path: Path) -> list[dict[str, Any]]:
    return [
        {k: e[k] for k in ("model", "version", "job_id", "role", "registered_at", "metrics", "data_snapshot")}
        for e in entries(PartyDir(path))
    ]


def public_key(path: Path) -> dict[str, Any]:
    party = PartyDir(path)
    return {"name": party.name, "role": party.role, "public_key": envelope.public_hex(party.key)}


def score(
    path: Path, model: str, version: int | None, ids_file: Path, host_url: str, ca_file: Path | None = None
) -> dict[str, Any]:
    from jinyu.jointmodel.scoring import score as joint_score

    if not ids_file.exists():
        raise BadPartyData(detail=f"id 文件不存在 / ids file missing: {ids_file}")
    ids = [
        line.strip() for line in ids_file.read_text().splitlines() if line.strip() and line.strip() != "id"
    ]
    if not ids:
        raise BadPartyData(detail="id 文件为空 / the ids file is empty")
    return joint_score(PartyDir(path), model, version, ids, host_url, ca_file)


# The platform's register (`--as-user` / `--api-key` on `job create|accept|run|show`): the same documents the
# parties hold, filed through the same use cases as /api/v1/joint.


def register_job(
    session: Session, principal: Principal, path: Path, job_id: str, guest_org_id: str
) -> JointJobOut:
    document = json.loads((PartyDir(path).job_dir(job_id) / "job.json").read_text())
    return platform.declare(session, principal, SignedJobIn(guest_org_id=guest_org_id, document=document))


def file_acceptance(session: Session, principal: Principal, path: Path, job_id: str) -> JointJobOut:
    """The party's acceptance on the register: the bank's (guest) or the hub's (host); a regulator has none."""
    party = PartyDir(path)
    _, acceptance = jobs.accepted_spec(party, job_id)
    data = AcceptanceIn(acceptance=acceptance, public_key=party.public_key)
    if party.role == "host":
        return platform.accept_host(session, principal, job_id, data)
    return platform.accept(session, principal, job_id, data)


def check_runnable(session: Session, principal: Principal, job_id: str) -> JointJobOut:
    return platform.require_all_accepted(session, principal, job_id)


def file_report(session: Session, principal: Principal, path: Path, job_id: str) -> JointJobOut:
    document = make_report(PartyDir(path), job_id)
    return platform.report(session, principal, job_id, ReportIn(**document))


def platform_job(session: Session, principal: Principal, job_id: str) -> JointJobOut:
    return platform.get_job(session, principal, job_id)
