"""Stored batch checks: a bank keeps the whole result of a batch it ran (summary and every row) and opens or
downloads it later, instead of running the batch again.

Only the bank that ran a batch sees it: the same tenant, and the asking org or an org above it (a branch's
batch is visible to its head office, not to a sibling branch). Anything else answers 404, as if it did not
exist. Storing, opening and downloading are audited (`risk.batch.store`, `risk.batch.read`); the list shows
only summaries (no loan), and is audited too (`risk.batch.list`), being the bank's own risk findings.
"""

from __future__ import annotations

import io

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.csvsafe import SafeWriter
from jinyu.core.errors import NotFound
from jinyu.risk.models import StoredBatch
from jinyu.risk.schemas import StoredBatchOut
from jinyu.risk.tracing.schemas import BatchResult, BatchRow

PURPOSE = "贷后资金流向监测 / post-loan monitoring of the use of loan proceeds"


class StoredBatchNotFound(NotFound):
    code = "batch_not_found"
    title = "批量核查结果不存在 / Batch result not found"


def store(session: Session, principal: Principal, result: BatchResult) -> None:
    """Keep `result` (just run by `principal`) for its bank."""
    principal.require(Perm.RISK_QUERY)
    session.add(
        StoredBatch(
            id=result.batch_id,
            tenant_id=principal.tenant_id,
            org_id=principal.org_id,
            org_path=principal.org_path,
            actor_id=principal.subject_id,
            inquiry_id=result.inquiry_id,
            bank_code=result.bank_code,
            from_date=result.from_date,
            to_date=result.to_date,
            loans=result.summary.loans,
            risky_loans=result.summary.risky_loans,
            result=result.model_dump(mode="json"),
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        action="risk.batch.store",
        subject_type="risk_batch",
        subject_ids=[result.batch_id],
        purpose=PURPOSE,
        detail={"inquiry_id": result.inquiry_id, "loans": result.summary.loans},
    )


def _visible(principal: Principal) -> Select[StoredBatch]:
    return select(StoredBatch).where(
        StoredBatch.tenant_id == principal.tenant_id,
        StoredBatch.org_path.startswith(principal.org_path, autoescape=True),
    )


def list_stored(session: Session, principal: Principal, limit: int = 50) -> list[StoredBatchOut]:
    """The bank's stored batches, newest first."""
    principal.require(Perm.RISK_QUERY)
    rows = session.scalars(_visible(principal).order_by(StoredBatch.at.desc()).limit(limit)).all()
    audit.record(
        session,
        principal,
        action="risk.batch.list",
        subject_type="risk_batch",
        subject_ids=[r.id for r in rows],
        purpose=PURPOSE,
    )
    return [
        StoredBatchOut(
            batch_id=r.id,
            inquiry_id=r.inquiry_id,
            bank_code=r.bank_code,
            from_date=r.from_date,
            to_date=r.to_date,
            loans=r.loans,
            risky_loans=r.risky_loans,
            at=r.at,
        )
        for r in rows
    ]


def get_stored(session: Session, principal: Principal, batch_id: str) -> BatchResult:
    """One stored batch whole (404 outside the bank and org subtree that ran it); the read is audited with
    the loans it shows."""
    principal.require(Perm.RISK_QUERY)
    row = session.scalars(_visible(principal).where(StoredBatch.id == batch_id)).first()
    if row is None:
        raise StoredBatchNotFound(detail=batch_id)
    result = BatchResult.model_validate(row.result)
    ids = [r.loan_id for r in result.rows]
    for part, offset in enumerate(range(0, max(len(ids), 1), 1000)):
        audit.record(
            session,
            principal,
            action="risk.batch.read",
            subject_type="loan",
            subject_ids=ids[offset : offset + 1000],
            purpose=PURPOSE,
            detail={"batch_id": batch_id, "part": part + 1, "loans": len(ids)},
        )
    return result


def csv_text(result: BatchResult) -> str:
    """Every row as the CLI's --csv writes it, with a BOM so spreadsheets read the Chinese names as UTF-8;
    cells that a spreadsheet would run as formulas are neutralised (core.csvsafe)."""
    out = io.StringIO()
    out.write("\ufeff")
    SafeWriter(out).dict_rows(list(BatchRow.model_fields), (r.model_dump(mode="json") for r in result.rows))
    return out.getvalue()


def csv_filename(result: BatchResult) -> str:
    return f"batch-{result.from_date}-{result.to_date}-{result.batch_id}.csv"
