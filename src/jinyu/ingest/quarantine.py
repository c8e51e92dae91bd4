"""Quarantine files: why each rejected row was refused, with the row itself only sealed.

A quarantine file is CSV (`row_number, reasons, sealed_row`): the file row number and reason codes in clear,
the row as the provider sent it only as an AES-256-GCM token (`core.sealed`) bound to (dataset, load, row).
Rows can hold resident IDs, phones and names, so the clear file holds none of them. The providing
organisation's data engineers (ingest.run, same organisation as the load) open them through
`GET /api/v1/ingest/loads/{id}/quarantine` or `jinyu ingest-quarantine`; each opening is audited.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.csvsafe import SafeWriter
from jinyu.core.sealed import Sealer
from jinyu.governance.policy.protect import Reader, protect
from jinyu.ingest import repository as repo
from jinyu.ingest.errors import LoadNotFound, QuarantineNotSealed
from jinyu.ingest.schemas import QuarantinedRow, QuarantineOut

HEADER = ("row_number", "reasons", "sealed_row")


def _context(dataset: str, load_id: str, number: int) -> str:
    return f"{dataset}\x1f{load_id}\x1f{number}"


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def write(
    path: Path,
    dataset: str,
    columns: Sequence[str],
    rows: Iterable[tuple[int, list[str], dict[str, Any]]],
    sealer: Sealer,
) -> Path:
    """Write the sealed quarantine file (0600 in a 0700 directory); the load id is the file's stem."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        out = SafeWriter(f)
        out.row(HEADER)
        for number, problems, raw in sorted(rows, key=lambda r: r[0]):
            cells = {c: _plain(raw.get(c)) for c in columns}
            plain = json.dumps(cells, ensure_ascii=False, separators=(",", ":")).encode()
            out.row([number, ";".join(problems), sealer.seal(plain, _context(dataset, path.stem, number))])
    return path


def read(path: Path, dataset: str, sealer: Sealer) -> list[QuarantinedRow]:
    """Every row of a quarantine file, opened."""
    rows: list[QuarantinedRow] = []
    with path.open(encoding="utf-8", newline="") as f:
        records = csv.DictReader(f)
        if "sealed_row" not in (records.fieldnames or ()):
            raise QuarantineNotSealed(
                detail=f"{path.name}: 请删除或重新接入 / delete it, or load the file again (docs/security.md)"
            )
        for rec in records:
            number = int(rec["row_number"])
            values = json.loads(sealer.open(rec["sealed_row"], _context(dataset, path.stem, number)))
            reasons = [r for r in rec["reasons"].split(";") if r]
            rows.append(QuarantinedRow(row_number=number, reasons=reasons, values=values))
    return rows


def open_rows(
    session: Session, principal: Principal, load_id: str, quarantine_dir: Path, sealer: Sealer
) -> QuarantineOut:
    """The rejected rows of a load, in clear, for the providing organisation's data engineers only.

    Another organisation's load is not found (404) even for those who may list it; a caller without
    ingest.run is refused (403). Every opening is audited."""
    principal.require(Perm.INGEST_RUN)
    load = repo.get(session, principal, load_id)
    if load is None or load.org_id != principal.org_id:
        raise LoadNotFound(detail=load_id)
    path = quarantine_dir / load.dataset / f"{load.lake_load_id}.csv"
    rows = read(path, load.dataset, sealer) if load.rejected and path.exists() else []
    audit.record(
        session,
        principal,
        action="ingest.quarantine.open",
        subject_type="dataset",
        subject_ids=[load.dataset, load.id],
        detail={"rows": len(rows)},
    )
    # The provider's own rows, in clear to its own engineers: the policy classes them `internal` (a read path
    # like every other, so a change of policy applies here too).
    return protect(QuarantineOut(load_id=load.id, dataset=load.dataset, rows=rows), Reader(principal))
