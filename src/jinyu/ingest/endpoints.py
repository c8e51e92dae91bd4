"""HTTP handlers: dataset contracts, file upload ingestion, load reports."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, UploadFile, status
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.sealed import Sealer
from jinyu.core.web import SessionDep, require
from jinyu.governance import tasks
from jinyu.ingest import quarantine, service
from jinyu.ingest.schemas import ContractOut, LoadReport, QuarantineOut

Encoding = Literal["auto", "utf-8", "gbk", "gb18030"]
router = APIRouter(tags=["ingest 数据接入"])
log = logging.getLogger(__name__)

# What completes an upload's load besides the quality check, plugged in by the layer above ingestion that
# knows it (`jinyu.app`: the loan check's resident index and context prepared, as `jinyu ingest` does at its
# end, and the chain page's answers): (settings, loaded datasets, the app's session factory), called after the
# commit, off the answer; each returns at once (its work runs in a thread of its own) and a failure is logged,
# never the load's.
after_load: list[Callable[[Settings, list[str], sessionmaker[Session]], object]] = []


def stores_for(request: Request) -> service.Stores:
    settings = request.app.state.settings
    return service.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=settings.data_dir / "quarantine",
        pseudonym_key=settings.pseudonym_keys(),
        quarantine_key=settings.key("quarantine_key"),
    )


@router.get("/datasets", response_model=list[ContractOut])
def list_contracts(principal: Principal = require(Perm.DATASET_READ)) -> list[ContractOut]:
    """数据契约：列、类型、主键、分级 / dataset contracts: columns, types, keys, classification."""
    return service.list_contracts()


@router.get("/datasets/{dataset}", response_model=ContractOut)
def get_contract(dataset: str, principal: Principal = require(Perm.DATASET_READ)) -> ContractOut:
    return service.describe_contract(dataset)


@router.post("/ingest/{dataset}", response_model=LoadReport, status_code=status.HTTP_201_CREATED)
def upload(
    dataset: str,
    file: UploadFile,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: Principal = require(Perm.INGEST_RUN),
    encoding: Annotated[
        Encoding,
        Query(description="CSV 编码，auto 自动识别 / CSV encoding; auto detects UTF-8 or GB18030"),
    ] = "auto",
) -> LoadReport:
    """上传并接入一个文件（CSV 或 Parquet），返回加载报告 / ingest one file and return the load report.

    不可读的行（截断、字段数不符、编码错误）逐行隔离并注明行号 / unreadable lines are quarantined one by one
    with their line number; the rest load."""
    contract = service.contract_for(dataset)  # an unknown name is a 404 before anything is written
    suffix = Path(file.filename or "").suffix
    if suffix not in (".csv", ".parquet"):
        raise invalid("file", "仅支持 .csv 与 .parquet / only .csv and .parquet files")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{contract.name}{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        report = service.ingest(session, principal, dataset, path, stores_for(request), encoding=encoding)
    if not report.already_loaded:
        # After the answer, so after the commit that publishes the load's files: the post-load quality check,
        # then what completes the load (it starts its own thread: the request's tasks end as before, so a next
        # request on the same connection waits no longer; the check does not share the cores with it).
        settings = request.app.state.settings
        background.add_task(
            tasks.check_after_load_logged,
            request.app.state.sessionmaker,
            settings.lake_dir,
            dataset,
            report.id,
            request.app.state.analytics,
        )
        background.add_task(_after_load, settings, [dataset], request.app.state.sessionmaker)
    return report


def _after_load(settings: Settings, datasets: list[str], factory: sessionmaker[Session]) -> None:
    for step in after_load:
        try:
            step(settings, datasets, factory)
        except Exception:  # the load has committed: it stands whatever happens here
            log.exception("after-load step failed", extra={"datasets": datasets})


@router.get("/ingest/loads", response_model=Page[LoadReport])
def list_loads(
    session: SessionDep,
    principal: Principal = require(Perm.INGEST_READ),
    dataset: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LoadReport]:
    return service.list_loads(session, principal, dataset, limit, offset)


@router.get("/ingest/loads/{load_id}", response_model=LoadReport)
def get_load(
    load_id: str, session: SessionDep, principal: Principal = require(Perm.INGEST_READ)
) -> LoadReport:
    return service.get_load(session, principal, load_id)


@router.get("/ingest/loads/{load_id}/quarantine", response_model=QuarantineOut)
def open_quarantine(
    load_id: str, request: Request, session: SessionDep, principal: Principal = require(Perm.INGEST_RUN)
) -> QuarantineOut:
    """被拒绝行的原文（解密），仅限提供该文件的机构的数据工程师，已审计 / the rejected rows in clear, for the
    providing organisation's data engineers only; audited."""
    settings = request.app.state.settings
    return quarantine.open_rows(
        session, principal, load_id, settings.data_dir / "quarantine", Sealer(settings.key("quarantine_key"))
    )
