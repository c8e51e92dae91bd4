"""A party's data dir: its identity, trusted peers, data file, jobs and model registry.

<dir>/party.json    {"name", "role": guest|host|regulator, "data": CSV path, "id_column", "label_column"}
<dir>/key.pem       the party's Ed25519 private key (mode 0600); never leaves the dir
<dir>/peers.json    {"<party name>": "<Ed25519 public key, hex>"}: whom this party trusts
<dir>/jobs/<job>/   job.json, acceptance.json, state.json, capture.bin, audit.jsonl, nonces.txt, checkpoints/
<dir>/registry.json the models this party holds its half of
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jinyu.core.errors import FieldError, InvalidInput
from jinyu.jointmodel import envelope
from jinyu.jointmodel.errors import BadPartyData, JobUnknown
from jinyu.jointmodel.journal import append_audit
from jinyu.jointmodel.rules import Matrix, Vector

ROLES = ("guest", "host", "regulator")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def check_name(value: str, field: str) -> str:
    if not NAME.match(value):
        message = "2–63 个小写字母、数字和连字符 / 2-63 lowercase letters, digits and '-'"
        raise InvalidInput(detail=f"{field}: {value!r}", fields=[FieldError(field, message)])
    return value


@dataclass
class PartyData:
    ids: list[str]
    features: Matrix
    labels: Vector | None
    feature_names: list[str]
    quarantined: list[dict[str, str]]


class PartyDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        config = path / "party.json"
        if not config.exists():
            raise BadPartyData(detail=f"不是参与方目录 / not a party dir (no party.json): {path}")
        self.config: dict[str, Any] = json.loads(config.read_text())
        self.name: str = self.config["name"]
        self.role: str = self.config["role"]

    @staticmethod
    def init(
        path: Path, name: str, role: str, data: Path | None, id_column: str, label_column: str
    ) -> PartyDir:
        check_name(name, "name")
        if role not in ROLES:
            raise BadPartyData(detail=f"role: 取值 / one of {', '.join(ROLES)}")
        if role != "regulator" and (data is None or not data.exists()):
            raise BadPartyData(detail=f"data: 数据文件不存在 / data file missing: {data}")
        path.mkdir(parents=True, exist_ok=True)
        if (path / "party.json").exists():
            raise BadPartyData(detail=f"目录已初始化 / already a party dir: {path}")
        key_file = path / "key.pem"
        key_file.write_bytes(envelope.private_pem(envelope.new_key()))
        os.chmod(key_file, 0o600)
        config = {
            "name": name,
            "role": role,
            "data": str(data.resolve()) if data else None,
            "id_column": id_column,
            "label_column": label_column if role == "guest" else None,
        }
        (path / "party.json").write_text(json.dumps(config, indent=2))
        (path / "peers.json").write_text("{}")
        return PartyDir(path)

    @property
    def key(self) -> Ed25519PrivateKey:
        return envelope.load_private((self.path / "key.pem").read_bytes())

    @property
    def public_key(self) -> str:
        return envelope.public_hex(self.key)

    def peers(self) -> dict[str, str]:
        trusted: dict[str, str] = json.loads((self.path / "peers.json").read_text())
        return {**trusted, self.name: self.public_key}

    def trust(self, name: str, public_key: str) -> None:
        check_name(name, "peer")
        if not re.fullmatch(r"[0-9a-f]{64}", public_key):
            raise BadPartyData(
                detail="key: 64 位十六进制 Ed25519 公钥 / 64 hex digits of an Ed25519 public key"
            )
        peers = json.loads((self.path / "peers.json").read_text())
        peers[name] = public_key
        (self.path / "peers.json").write_text(json.dumps(peers, indent=2, sort_keys=True))

    def job_dir(self, job_id: str, create: bool = False) -> Path:
        path = self.path / "jobs" / check_name(job_id, "job")
        if create:
            (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise JobUnknown(detail=f"{self.name} 没有任务 / has no job {job_id}")
        return path

    def audit(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        append_audit(self.job_dir(job_id) / "audit.jsonl", event, data)

    def state(self, job_id: str) -> dict[str, Any]:
        path = self.job_dir(job_id) / "state.json"
        return json.loads(path.read_text()) if path.exists() else {"status": "accepted"}

    def save_state(self, job_id: str, **changes: Any) -> dict[str, Any]:
        state = {**self.state(job_id), **changes}
        (self.job_dir(job_id) / "state.json").write_text(json.dumps(state, indent=2, ensure_ascii=False))
        return state

    def load_data(self) -> PartyData:
        """Rows of the data file; rows with a missing id, a duplicate id or a non-numeric value are quarantined
        with their reason (returned, and written by the caller to the job's quarantine file), never dropped."""
        id_column, label_column = self.config["id_column"], self.config["label_column"]
        with open(self.config["data"], newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            missing = [c for c in (id_column, label_column) if c and c not in columns]
            if missing:
                raise BadPartyData(detail=f"数据缺少列 / data file lacks columns: {', '.join(missing)}")
            names = [c for c in columns if c not in (id_column, label_column)]
            ids: list[str] = []
            rows: list[list[float]] = []
            labels: list[float] = []
            quarantined: list[dict[str, str]] = []
            seen: set[str] = set()
            for line, record in enumerate(reader, start=2):
                reason = _row_problem(record, id_column, label_column, names, seen)
                if reason:
                    quarantined.append({"line": str(line), "reason": reason})
                    continue
                seen.add(record[id_column])
                ids.append(record[id_column])
                rows.append([float(record[c]) for c in names])
                if label_column:
                    labels.append(float(record[label_column]))
        features = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))
        return PartyData(ids, features, np.asarray(labels) if label_column else None, names, quarantined)


def _row_problem(
    record: dict[str, str], id_column: str, label_column: str | None, names: list[str], seen: set[str]
) -> str:
    row_id = (record.get(id_column) or "").strip()
    if not row_id:
        return "缺少 id / missing id"
    if row_id in seen:
        return f"重复 id / duplicate id {row_id}"
    if label_column and record.get(label_column) not in ("0", "1"):
        return f"标签须为 0 或 1 / label must be 0 or 1: {record.get(label_column)!r}"
    for column in names:
        try:
            value = float(record[column])
        except (TypeError, ValueError):
            return f"{column}: 非数值 / not a number: {record[column]!r}"
        if not math.isfinite(value):
            return f"{column}: 非有限数 / not finite"
    return ""


def write_quarantine(party: PartyDir, job_id: str, data: PartyData) -> None:
    """The rows left out of a job, with their reasons: <dir>/jobs/<job>/quarantine.csv (line,reason)."""
    if not data.quarantined:
        return
    with (party.job_dir(job_id) / "quarantine.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["line", "reason"])
        writer.writeheader()
        writer.writerows(data.quarantined)
