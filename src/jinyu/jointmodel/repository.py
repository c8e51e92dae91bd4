"""Every query on the joint-job register; `readable(principal)` scopes jobs and models to the caller."""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from jinyu.core.auth import Perm, Principal
from jinyu.jointmodel.models import JointJob, JointModel


def _sees_all(principal: Principal) -> bool:
    """The regulator sees every job; a bank only the jobs where its head office holds the labels."""
    return principal.has(Perm.JOINT_DECLARE)


def readable_jobs(principal: Principal) -> Select[JointJob]:
    stmt = select(JointJob)
    return stmt if _sees_all(principal) else stmt.where(JointJob.guest_org_id == principal.tenant_id)


def readable_models(principal: Principal) -> Select[JointModel]:
    stmt = select(JointModel)
    return stmt if _sees_all(principal) else stmt.where(JointModel.guest_org_id == principal.tenant_id)


def job(session: Session, principal: Principal, job_id: str) -> JointJob | None:
    return session.scalars(readable_jobs(principal).where(JointJob.job_id == job_id)).first()


def job_exists(session: Session, job_id: str) -> bool:
    return session.scalar(select(func.count()).where(JointJob.job_id == job_id)) != 0


def jobs(
    session: Session, principal: Principal, status: str | None, limit: int, after: JointJob | None
) -> list[JointJob]:
    """Newest first (declared_at, then job_id); `after` is the last job of the previous page (keyset paging).
    One more row than `limit` is read, so the caller knows whether a next page exists."""
    stmt = readable_jobs(principal).order_by(JointJob.declared_at.desc(), JointJob.job_id)
    if status:
        stmt = stmt.where(JointJob.status == status)
    if after is not None:
        stmt = stmt.where(
            or_(
                JointJob.declared_at < after.declared_at,
                and_(JointJob.declared_at == after.declared_at, JointJob.job_id > after.job_id),
            )
        )
    return list(session.scalars(stmt.limit(limit + 1)))


def model_of_job(session: Session, job_id: str) -> JointModel | None:
    return session.scalars(select(JointModel).where(JointModel.job_id == job_id)).first()


def model_by_job(session: Session, principal: Principal, job_id: str) -> JointModel | None:
    return session.scalars(readable_models(principal).where(JointModel.job_id == job_id)).first()


def models(
    session: Session, principal: Principal, model_name: str | None, limit: int, after: JointModel | None
) -> list[JointModel]:
    """By model name, newest version first, then bank; `after` is the previous page's last model (keyset)."""
    stmt = readable_models(principal).order_by(
        JointModel.model_name, JointModel.version.desc(), JointModel.guest_org_id
    )
    if model_name:
        stmt = stmt.where(JointModel.model_name == model_name)
    if after is not None:
        same_name = JointModel.model_name == after.model_name
        stmt = stmt.where(
            or_(
                JointModel.model_name > after.model_name,
                and_(same_name, JointModel.version < after.version),
                and_(
                    same_name,
                    JointModel.version == after.version,
                    JointModel.guest_org_id > after.guest_org_id,
                ),
            )
        )
    return list(session.scalars(stmt.limit(limit + 1)))


def version_taken(session: Session, guest_org_id: str, model_name: str, version: int) -> bool:
    stmt = select(func.count()).where(
        JointModel.guest_org_id == guest_org_id,
        JointModel.model_name == model_name,
        JointModel.version == version,
    )
    return session.scalar(stmt) != 0
