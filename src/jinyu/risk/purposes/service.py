"""Use cases of the purpose × use matrix: the version in force (for tracing), show a version, store a new one.

Versions are append-only: an edit names the version it was based on (`base_version`) and is refused with
409 when another was stored meanwhile, so two regulators never silently overwrite each other. Every stored
version is audited with the lines it changed.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError
from jinyu.risk.models import PurposeMatrixVersion
from jinyu.risk.purposes import repository, rules
from jinyu.risk.purposes.errors import MatrixInvalid, MatrixVersionNotFound, MatrixVersionStale
from jinyu.risk.purposes.schemas import MatrixEntry, PurposeMatrixIn, PurposeMatrixOut, PurposeOut

BUILT_IN_NOTE = "内置默认矩阵 / built-in default matrix (docs/risk-tracing.md)"


def _entries(row: PurposeMatrixVersion | None) -> list[rules.Entry]:
    if row is None:
        return rules.default_entries()
    return [rules.Entry(str(e["purpose"]), str(e["kind"]), bool(e["prohibited"])) for e in row.entries]


def in_force(session: Session) -> rules.Matrix:
    """The matrix tracing applies now: the highest stored version, or the built-in default (version 0)."""
    row = repository.latest(session)
    return rules.Matrix.of(row.version if row else 0, _entries(row))


def _out(row: PurposeMatrixVersion | None) -> PurposeMatrixOut:
    return PurposeMatrixOut(
        version=row.version if row else 0,
        source="stored" if row else "built_in",
        note=row.note if row else BUILT_IN_NOTE,
        created_by=row.created_by if row else None,
        created_at=row.created_at if row else None,
        purposes=[PurposeOut(code=c, label=f"{zh} / {en}") for c, (zh, en) in rules.PURPOSES.items()],
        kinds=list(rules.MATRIX_KINDS),
        entries=[
            MatrixEntry(
                purpose=e.purpose, kind=e.kind, prohibited=e.prohibited, rule=rules.rule_id(e.purpose, e.kind)
            )
            for e in _entries(row)
        ],
    )


def show(session: Session, principal: Principal, version: int | None = None) -> PurposeMatrixOut:
    """用途相容性矩阵（当前或指定版本）/ the matrix in force, or a given version (0: the built-in default)."""
    principal.require(Perm.RISK_MATRIX_READ)
    if version is None:
        return _out(repository.latest(session))
    if version == 0:
        return _out(None)
    row = repository.get(session, version)
    if row is None:
        raise MatrixVersionNotFound(detail=str(version))
    return _out(row)


def update(session: Session, principal: Principal, body: PurposeMatrixIn) -> PurposeMatrixOut:
    """存储新版本 / store a new version (whole matrix; audited with the lines it changes)."""
    principal.require(Perm.RISK_MATRIX_WRITE)
    entries = [rules.Entry(e.purpose, e.kind, e.prohibited) for e in body.entries]
    found = rules.problems(entries)
    if found:
        raise MatrixInvalid(fields=[FieldError(f, m) for f, m in found])
    current = repository.latest(session)
    current_version = current.version if current else 0
    if body.base_version != current_version:
        raise MatrixVersionStale(
            detail=f"当前版本 / version in force: {current_version}, edited: {body.base_version}",
            extra={"current_version": current_version},
        )
    before = rules.Matrix.of(current_version, _entries(current))
    changed = sorted(
        rules.rule_id(e.purpose, e.kind)
        for e in entries
        if before.is_prohibited(e.purpose, e.kind) != e.prohibited
    )
    row = PurposeMatrixVersion(
        version=current_version + 1,
        entries=[{"purpose": e.purpose, "kind": e.kind, "prohibited": e.prohibited} for e in entries],
        note=body.note,
        created_by=principal.username or principal.subject_id,
    )
    try:
        repository.add(session, row)
    except IntegrityError:  # another edit of the same base committed first
        raise MatrixVersionStale(detail=f"edited: {body.base_version}") from None
    audit.record(
        session,
        principal,
        action="risk.purpose_matrix.update",
        subject_type="purpose_matrix",
        subject_ids=[str(row.version)],
        purpose="信贷资金用途监管 / credit purpose regulation",
        detail={
            "base_version": current_version,
            "version": row.version,
            "changed": changed,
            "note": body.note,
        },
    )
    return _out(row)
