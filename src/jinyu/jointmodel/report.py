"""A party's signed report of a job for the regulator, and the regulator's check of it.

report file: {"report": {job_id, spec_sha256, party, role, status, epoch, metrics, model, version, data_snapshot,
audit_entries, audit_head, capture_frames, capture_sha256, made_at}, "signature": Ed25519 of the party over the
canonical report}.
The regulator accepts it only from a party it trusts, for a job it declared with the same spec digest, and keeps
it under <regulator dir>/jobs/<job>/reports/<party>.json with an audit entry `job_reported`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinyu.jointmodel import envelope, jobs, registry
from jinyu.jointmodel.errors import BadPartyData, JobNotAccepted, JobUnknown, SignatureRejected
from jinyu.jointmodel.journal import read_audit, verify_audit
from jinyu.jointmodel.party import PartyDir


def make(party: PartyDir, job_id: str) -> dict[str, Any]:
    spec, _ = jobs.accepted_spec(party, job_id)
    job_dir = party.job_dir(job_id)
    state = party.state(job_id)
    audit = job_dir / "audit.jsonl"
    entries = verify_audit(audit)
    capture = job_dir / "capture.bin"
    data = capture.read_bytes() if capture.exists() else b""
    body = {
        "job_id": job_id,
        "spec_sha256": jobs.spec_digest(spec),
        "party": party.name,
        "role": party.role,
        "status": state.get("status"),
        "epoch": state.get("epoch"),
        "metrics": state.get("metrics"),
        "model": state.get("model"),
        "version": state.get("version"),
        "data_snapshot": _snapshot(party, job_id),
        "audit_entries": entries,
        "audit_head": read_audit(audit)[-1]["hash"] if entries else None,
        "capture_sha256": hashlib.sha256(data).hexdigest(),
        "made_at": datetime.now(UTC).isoformat(),
    }
    report = {"report": body, "signature": envelope.sign(party.key, body)}
    party.audit(job_id, "report_made", {"audit_head": body["audit_head"]})
    return report


def _snapshot(party: PartyDir, job_id: str) -> dict[str, Any] | None:
    """The registered model's data snapshot (file digest, rows, quarantined), for the platform's registry."""
    try:
        return dict(registry.for_job(party, job_id)["data_snapshot"])
    except JobUnknown:
        return None


def receive(regulator: PartyDir, report_file: Path) -> dict[str, Any]:
    if not report_file.exists():
        raise BadPartyData(detail=f"报告文件不存在 / report file missing: {report_file}")
    document = json.loads(report_file.read_text())
    body = document["report"]
    trusted = regulator.peers()
    if body["party"] not in trusted:
        raise SignatureRejected(detail=f"未登记的参与方 / unknown party: {body['party']}")
    envelope.verify(trusted[body["party"]], body, document["signature"])
    declared = json.loads((regulator.job_dir(body["job_id"]) / "job.json").read_text())["spec"]
    if jobs.spec_digest(declared) != body["spec_sha256"]:
        raise JobNotAccepted(detail="报告的任务参数与发起的不同 / the report is about another spec")
    reports = regulator.job_dir(body["job_id"]) / "reports"
    reports.mkdir(exist_ok=True)
    (reports / f"{body['party']}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    regulator.audit(
        body["job_id"],
        "job_reported",
        {k: body[k] for k in ("party", "status", "metrics", "model", "version")},
    )
    return dict(body)
