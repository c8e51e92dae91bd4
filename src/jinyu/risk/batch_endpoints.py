"""HTTP handlers of the bank's stored batch checks, under /api/v1/risk/batches (jinyu.risk.batches): the list,
one batch whole as JSON, and its rows as CSV. The same scoping and audit as the console's pages: the bank org
that ran a batch and the orgs above it; anyone else gets 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.risk import batches
from jinyu.risk.schemas import StoredBatchOut
from jinyu.risk.tracing.schemas import BatchResult

router = APIRouter(tags=["risk 资金流风险核查"])

BatchId = Annotated[str, Path(min_length=1, max_length=64, description="批量核查编号 / batch id")]


@router.get("/batches", response_model=list[StoredBatchOut])
def list_batches(
    session: SessionDep,
    principal: Principal = require(Perm.RISK_QUERY),
    limit: Annotated[int, Query(ge=1, le=200, description="最多条数 / at most this many")] = 50,
) -> list[StoredBatchOut]:
    """本行已保存的批量核查，最新在前 / the bank's stored batch checks, newest first (summaries, no loan)."""
    return batches.list_stored(session, principal, limit)


@router.get("/batches/{batch_id}", response_model=BatchResult)
def get_batch(
    session: SessionDep, batch_id: BatchId, principal: Principal = require(Perm.RISK_QUERY)
) -> BatchResult:
    """一次已保存的批量核查（汇总与全部明细）/ one stored batch whole, without running it again."""
    return batches.get_stored(session, principal, batch_id)


@router.get(
    "/batches/{batch_id}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM"}},
)
def download_batch(
    session: SessionDep, batch_id: BatchId, principal: Principal = require(Perm.RISK_QUERY)
) -> Response:
    """下载已保存批量核查的明细 CSV / a stored batch's rows as CSV (formula-safe cells)."""
    result = batches.get_stored(session, principal, batch_id)
    return Response(
        batches.csv_text(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{batches.csv_filename(result)}"'},
    )
