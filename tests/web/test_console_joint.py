"""The joint-modelling register's console page: a bank sees only the jobs it holds the labels of (and their
models), the regulator sees every job, a bad state filter answers a 422 page, and each view is audited as the API's
list is (`joint.job.list`, `joint.model.list`)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.auth import OrgKind, Role
from jinyu.jointmodel.models import JointJob, JointModel
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login


def _job(session: Session, job_id: str, bank_id: str, status: str) -> None:
    session.add(
        JointJob(
            job_id=job_id, model_name="sme-risk", guest_org_id=bank_id, spec={"epochs": 5}, spec_sha256="0" * 64,
            regulator_key="k" * 64, signature="s" * 128, status=status, declared_by="analyst",
        )
    )  # fmt: skip


def test_joint_page_scopes_jobs_and_models_to_the_bank(client: TestClient, session: Session) -> None:
    regulator = make_org(session, OrgKind.REGULATOR)
    bank_a = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="甲银行")
    bank_b = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="乙银行")
    analyst = make_user(session, regulator, Role.REGULATOR_ANALYST).username
    risk_a = make_user(session, bank_a, Role.BANK_HQ_RISK).username
    _job(session, "job-a-done", bank_a.id, "done")
    _job(session, "job-b-declared", bank_b.id, "declared")
    session.flush()
    session.add(
        JointModel(
            model_name="sme-risk", version=3, job_id="job-a-done", guest_org_id=bank_a.id,
            data_snapshot={"rows": 30000}, metrics={"auc": 0.7103, "ks": 0.31}, registered_by=risk_a,
        )
    )  # fmt: skip
    session.commit()

    console_login(client, risk_a)
    page = client.get("/console/joint")
    assert page.status_code == 200, page.text
    assert "job-a-done" in page.text and "job-b-declared" not in page.text  # another bank's job: not shown
    models = page.text.split('id="joint-models"')[1].split("</table>")[0]
    assert "0.7103" in models and "甲银行" in models and '<td class="num">3</td>' in models
    assert 'href="/console/joint"' in page.text  # in the bank's menu

    console_login(client, analyst)
    everything = client.get("/console/joint")
    assert "job-a-done" in everything.text and "job-b-declared" in everything.text
    declared = client.get("/console/joint", params={"status": "declared"})
    jobs = declared.text.split('id="joint-jobs"')[1].split("</table>")[0]
    assert "job-b-declared" in jobs and "job-a-done" not in jobs
    bad = client.get("/console/joint", params={"status": "finished"})
    assert bad.status_code == 422 and "status" in bad.text

    session.expire_all()
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.org_id == bank_a.id)).all()
    assert "joint.job.list" in actions and "joint.model.list" in actions
