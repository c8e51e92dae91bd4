"""A level approval ended early by a supervisor: audited, and the very next read (another request) is masked
again; only supervisors may revoke, only once, only on the grant it belongs to."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.clock import utcnow
from tests.fixtures.committed import session, session_factory
from tests.governance.test_policy_api import API, _grant, _summary, world

__all__ = ["session", "session_factory", "world"]


def _approve(world: dict, grant_id: str) -> str:
    body = {
        "level": 5,
        "reason": "贷前审查需纳税明细",
        "valid_until": (utcnow() + dt.timedelta(days=30)).isoformat(),
    }
    made = world["client"].post(
        f"{API}/consents/{grant_id}/approvals", headers=world["h"]["supervisor"], json=body
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_a_read_right_after_revocation_is_withheld_again(world: dict, session: Session) -> None:
    client, h = world["client"], world["h"]
    grant_id = _grant(world)
    approval_id = _approve(world, grant_id)
    assert _summary(world, "bank")["tax_paid_12m"] == "390.00"  # request 1: opened by the approval

    url = f"{API}/consents/{grant_id}/approvals/{approval_id}/revoke"
    reason = {"reason": "贷款已结清，不再需要"}
    for who in ("bank", "analyst"):  # only supervisors revoke
        assert client.post(url, headers=h[who], json=reason).status_code == 403
    assert client.post(url, headers=h["supervisor"], json={"reason": "x"}).status_code == 422
    done = client.post(url, headers=h["supervisor"], json=reason)
    assert done.status_code == 200, done.text
    assert done.json()["in_force"] is False and done.json()["revoke_reason"] == reason["reason"]

    after = _summary(world, "bank")  # request 2, its own session: the approval no longer counts
    assert (after["tax_months"], after["tax_paid_12m"], after["sales_declared_12m"]) == (None, None, None)
    listed = client.get(f"{API}/consents/{grant_id}/approvals", headers=h["bank"]).json()
    assert [(a["id"], a["in_force"], a["revoked_at"] is not None) for a in listed] == [
        (approval_id, False, True)
    ]
    # Twice is a conflict; an approval under another grant's id is not found.
    assert client.post(url, headers=h["supervisor"], json=reason).status_code == 409
    other = _grant(world)
    wrong = f"{API}/consents/{other}/approvals/{approval_id}/revoke"
    assert client.post(wrong, headers=h["supervisor"], json=reason).status_code == 404

    session.rollback()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "policy.approval.revoke")).all()
    assert [json.loads(e.detail or "{}")["approval_id"] for e in entries] == [approval_id]
    reads = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "govdata.summary.read").order_by(AuditEntry.at)
    ).all()
    details = [json.loads(e.detail or "{}") for e in reads]
    assert [d["approval_id"] for d in details if d.get("basis") == grant_id] == [approval_id, None]
