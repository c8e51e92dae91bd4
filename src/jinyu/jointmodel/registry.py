"""The model registry each party keeps (registry.json): its half of every joint model, by name and version.

An entry: {model, version, job_id, role, registered_at, data_snapshot: {file, sha256, rows, quarantined},
metrics, card: {features, table: [[edges, points], ...], weights}}. Only the owner's half is stored: the guest's
entry holds the guest's bins and points, the host's the host's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinyu.jointmodel.errors import JobUnknown
from jinyu.jointmodel.party import PartyData, PartyDir


def entries(party: PartyDir) -> list[dict[str, Any]]:
    path = party.path / "registry.json"
    loaded: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    return loaded


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def register(
    party: PartyDir,
    spec: dict[str, Any],
    card: dict[str, Any],
    metrics: dict[str, Any],
    data: PartyData,
    version: int | None = None,
) -> dict[str, Any]:
    existing = entries(party)
    same = [e for e in existing if e["job_id"] == spec["job_id"]]
    if same:  # registering a job twice (a resumed finish) keeps the first entry: idempotent
        return same[0]
    model = spec["model_name"]
    number = version or 1 + max((e["version"] for e in existing if e["model"] == model), default=0)
    entry = {
        "model": model,
        "version": number,
        "job_id": spec["job_id"],
        "role": party.role,
        "registered_at": datetime.now(UTC).isoformat(),
        "data_snapshot": {
            "file": Path(party.config["data"]).name,
            "sha256": file_sha256(Path(party.config["data"])),
            "rows": len(data.ids),
            "quarantined": len(data.quarantined),
        },
        "metrics": metrics,
        "card": card,
    }
    (party.path / "registry.json").write_text(json.dumps([*existing, entry], indent=2, ensure_ascii=False))
    return entry


def find(party: PartyDir, model: str, version: int | None = None) -> dict[str, Any]:
    matches = [
        e for e in entries(party) if e["model"] == model and (version is None or e["version"] == version)
    ]
    if not matches:
        raise JobUnknown(detail=f"没有模型 / no model {model} v{version or 'latest'}")
    return max(matches, key=lambda e: int(e["version"]))


def for_job(party: PartyDir, job_id: str) -> dict[str, Any]:
    for entry in entries(party):
        if entry["job_id"] == job_id:
            return entry
    raise JobUnknown(detail=f"任务 {job_id} 尚无登记的模型 / job {job_id} has no registered model")
