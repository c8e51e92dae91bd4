"""HTTP handlers of the joint-job register (/api/v1/joint): the regulator registers, the bank and the hub accept,
the bank reports. Lists are keyset pages (`limit`, `cursor` = the previous page's `next_cursor`)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit
from jinyu.core.web import SessionDep, require
from jinyu.jointmodel import platform
from jinyu.jointmodel.schemas import (
    AcceptanceIn,
    JointJobOut,
    JointModelOut,
    JointPage,
    ReportIn,
    SignedJobIn,
)

Cursor = Query(None, max_length=64, description="上一页的 next_cursor / the previous page's next_cursor")

router = APIRouter(prefix="/joint", tags=["joint 联合建模"])


@router.post("/jobs", response_model=JointJobOut, status_code=201)
def declare_job(
    data: SignedJobIn, session: SessionDep, principal: Principal = require(Perm.JOINT_DECLARE)
) -> JointJobOut:
    """登记监管方签名的联合建模任务 / register a joint job the regulator's party signed (job.json)."""
    return platform.declare(session, principal, data)


@router.get("/jobs", response_model=JointPage[JointJobOut])
def list_jobs(
    session: SessionDep,
    status: str | None = Query(None, pattern="^(declared|accepted|done|failed)$"),
    limit: Limit = 50,
    cursor: str | None = Cursor,
    principal: Principal = require(Perm.JOINT_READ),
) -> JointPage[JointJobOut]:
    """联合建模任务，最新在前，分页（银行只见自己参与的）/ joint jobs, newest first, in pages; a bank sees only
    those it is party to."""
    return platform.list_jobs(session, principal, status, limit, cursor)


@router.get("/jobs/{job_id}", response_model=JointJobOut)
def get_job(job_id: str, session: SessionDep, principal: Principal = require(Perm.JOINT_READ)) -> JointJobOut:
    """一个联合建模任务及其模型 / one joint job and the model it registered."""
    return platform.get_job(session, principal, job_id)


@router.post("/jobs/{job_id}/acceptance", response_model=JointJobOut)
def accept_job(
    job_id: str, data: AcceptanceIn, session: SessionDep, principal: Principal = require(Perm.JOINT_ACCEPT)
) -> JointJobOut:
    """银行登记其签名的接受书 / the bank files its party's signed acceptance and public key."""
    return platform.accept(session, principal, job_id, data)


@router.post("/jobs/{job_id}/host-acceptance", response_model=JointJobOut)
def accept_job_as_host(
    job_id: str,
    data: AcceptanceIn,
    session: SessionDep,
    principal: Principal = require(Perm.JOINT_HOST_ACCEPT),
) -> JointJobOut:
    """平台（host）节点登记其签名的接受书 / the hub files its party's signed acceptance and public key."""
    return platform.accept_host(session, principal, job_id, data)


@router.post("/jobs/{job_id}/report", response_model=JointJobOut)
def report_job(
    job_id: str, data: ReportIn, session: SessionDep, principal: Principal = require(Perm.JOINT_ACCEPT)
) -> JointJobOut:
    """银行提交签名的任务报告，完成则登记模型版本 / the bank's signed report; a done job registers its model."""
    return platform.report(session, principal, job_id, data)


@router.get("/models", response_model=JointPage[JointModelOut])
def list_models(
    session: SessionDep,
    model_name: str | None = Query(None, max_length=64),
    limit: Limit = 50,
    cursor: str | None = Cursor,
    principal: Principal = require(Perm.JOINT_READ),
) -> JointPage[JointModelOut]:
    """登记的联合模型版本（数据快照、指标）/ registered joint model versions with data snapshot and metrics."""
    return platform.list_models(session, principal, model_name, limit, cursor)
