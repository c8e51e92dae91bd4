"""Joint jobs: declared and signed by the regulator, accepted (and countersigned) by each party.

job.json        {"spec": {...}, "regulator_key": hex, "signature": hex over the canonical spec}
acceptance.json {"job_id", "spec_sha256", "party", "role", "columns", "accepted_at", "signature"} signed by the party
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinyu.core.errors import FieldError, InvalidInput, PermissionDenied
from jinyu.jointmodel import envelope
from jinyu.jointmodel.errors import JobNotAccepted, ProtocolViolation
from jinyu.jointmodel.he import MAX_BATCH
from jinyu.jointmodel.party import PartyDir, check_name

PSI_MODES = ("intersection", "size")
# The most feature columns a party may train on (and so the most masked products a key owner decrypts a batch).
MAX_COLUMNS = 256


def spec_digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(envelope.canonical(spec)).hexdigest()


def validate_spec(spec: dict[str, Any]) -> None:
    errors = []
    checks: list[tuple[str, bool, str]] = [
        ("psi", spec["psi"] in PSI_MODES, "intersection 或 size / intersection or size"),
        ("epochs", 1 <= spec["epochs"] <= 500, "1..500"),
        ("learning_rate", 0 < spec["learning_rate"] <= 10, "(0, 10]"),
        ("l2", 0 <= spec["l2"] <= 10, "[0, 10]"),
        ("batch_size", 16 <= spec["batch_size"] <= MAX_BATCH, f"16..{MAX_BATCH}"),
        ("valid_share", 0.05 <= spec["valid_share"] <= 0.5, "0.05..0.5"),
        ("bins", 2 <= spec["bins"] <= 20, "2..20"),
        ("host", spec["host"] != spec["guest"], "须与 guest 不同 / must differ from guest"),
    ]
    errors = [FieldError(name, message) for name, ok, message in checks if not ok]
    if errors:
        raise InvalidInput(detail="任务参数无效 / invalid job parameters", fields=errors)


def create(regulator: PartyDir, **spec_fields: Any) -> dict[str, Any]:
    if regulator.role != "regulator":
        raise PermissionDenied(detail="只有监管方可以发起任务 / only the regulator declares joint jobs")
    spec = {
        "job_id": check_name(spec_fields.pop("job_id"), "job"),
        "regulator": regulator.name,
        "guest": check_name(spec_fields.pop("guest"), "guest"),
        "host": check_name(spec_fields.pop("host"), "host"),
        "model_name": check_name(spec_fields.pop("model_name"), "model_name"),
        "seed": spec_fields.pop("seed", None) or secrets.randbelow(2**31),
        "created_at": datetime.now(UTC).isoformat(),
        **spec_fields,
    }
    validate_spec(spec)
    document = {
        "spec": spec,
        "regulator_key": regulator.public_key,
        "signature": envelope.sign(regulator.key, spec),
    }
    job_dir = regulator.job_dir(spec["job_id"], create=True)
    (job_dir / "job.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    regulator.audit(spec["job_id"], "job_declared", {"spec_sha256": spec_digest(spec), "spec": spec})
    return document


def accept(party: PartyDir, job_file: Path) -> dict[str, Any]:
    """Check the regulator's signature against the key this party trusts for it, then countersign."""
    document = json.loads(job_file.read_text())
    spec = document["spec"]
    trusted = party.peers()
    if spec["regulator"] not in trusted:
        raise JobNotAccepted(detail=f"未信任的监管方 / regulator not trusted: {spec['regulator']}")
    envelope.verify(trusted[spec["regulator"]], spec, document["signature"])
    roles = {"guest": spec["guest"], "host": spec["host"]}
    if roles.get(party.role) != party.name:
        raise JobNotAccepted(
            detail=f"{party.name} 不是本任务的 {party.role} / is not this job's {party.role}"
        )
    acceptance = {
        "job_id": spec["job_id"],
        "spec_sha256": spec_digest(spec),
        "party": party.name,
        "role": party.role,
        # the feature columns this party trains on: signed here, so the peer decrypts exactly that many masked
        # products a batch (guest: columns + 1 with the intercept), see peer_columns
        "columns": int(party.load_data().features.shape[1]),
        "accepted_at": datetime.now(UTC).isoformat(),
    }
    acceptance["signature"] = envelope.sign(party.key, acceptance)
    job_dir = party.job_dir(spec["job_id"], create=True)
    (job_dir / "job.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    (job_dir / "acceptance.json").write_text(json.dumps(acceptance, indent=2))
    party.audit(spec["job_id"], "job_accepted", {"spec_sha256": acceptance["spec_sha256"]})
    return acceptance


def accepted_spec(party: PartyDir, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    job_dir = party.job_dir(job_id)
    if not (job_dir / "acceptance.json").exists():
        raise JobNotAccepted(detail=f"{party.name} 尚未接受任务 / has not accepted job {job_id}")
    spec: dict[str, Any] = json.loads((job_dir / "job.json").read_text())["spec"]
    return spec, json.loads((job_dir / "acceptance.json").read_text())


def check_peer_acceptance(acceptance: dict[str, Any], spec: dict[str, Any], peer_key: str) -> None:
    """The peer accepted the very same spec (same digest) and signed that acceptance."""
    body = {k: v for k, v in acceptance.items() if k != "signature"}
    envelope.verify(peer_key, body, acceptance["signature"])
    if body["spec_sha256"] != spec_digest(spec):
        raise JobNotAccepted(detail="双方接受的任务参数不同 / the parties accepted different job specs")


def peer_columns(acceptance: dict[str, Any]) -> int:
    """The feature columns the peer signed in its acceptance (checked by check_peer_acceptance first): the key
    owner decrypts exactly that many masked products a batch (plus the guest's intercept), never more."""
    columns = acceptance.get("columns")
    if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= MAX_COLUMNS:
        raise ProtocolViolation(
            detail=f"对方接受书未声明特征列数（1..{MAX_COLUMNS}），请重新接受任务 / the peer's acceptance "
            f"does not state its feature columns (1..{MAX_COLUMNS}): accept the job again"
        )
    return columns


def check_own_columns(acceptance: dict[str, Any], columns: int) -> None:
    """This party's data still has the width it signed at acceptance."""
    if acceptance.get("columns") != columns:
        raise JobNotAccepted(
            detail=f"数据列数（{columns}）与接受时（{acceptance.get('columns')}）不同，请重新接受任务 / the data's "
            f"feature columns ({columns}) differ from those accepted ({acceptance.get('columns')}): accept again"
        )
