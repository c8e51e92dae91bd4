"""One-loan checks as one worker-thread trip (`core.onetrip`): a bearer token seen before is decided on the event
loop from what this process knew of it, and checked against the database first thing in the trip. These tests
make the second request (the one answered that way) and check that nothing is decided on stale knowledge: a
token revoked by another process is refused before any work is done (no inquiry, no audit entry), refusals are
audited for the checked principal, and 401/403 still come before 422."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.party.models import User
from jinyu.risk.models import RiskInquiry
from tests.fixtures.auth import login

FLOW = "/api/v1/risk/loans/L1/return-flow"


def _seen(client: TestClient, user: User) -> dict[str, str]:
    """A token this process has resolved once (so the next request takes the one-trip path)."""
    headers = login(client, user.username)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    return headers


def _records(session: Session) -> tuple[int, int]:
    session.expire_all()
    inquiries = session.scalar(select(func.count()).select_from(RiskInquiry))
    traced = session.scalar(select(func.count()).where(AuditEntry.action.startswith("risk.tracing.")))
    return int(inquiries or 0), int(traced or 0)


def test_a_seen_token_gets_the_same_answer_and_records(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    headers = _seen(client, users["hq"])
    before = _records(session)
    resp = client.get(FLOW, headers=headers, params={"policy": "fifo"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["verdict"], resp.json()["returned_amount"]) == ("risky", "590000.00")
    assert _records(session) == (before[0] + 1, before[1] + 1)  # committed before the answer


@pytest.mark.parametrize("change", [{"credential_version": User.credential_version + 1}, {"active": False}])
def test_a_token_revoked_by_another_process_is_refused_before_any_work(
    client: TestClient, session: Session, users: dict[str, User], change: dict[str, object]
) -> None:
    headers = _seen(client, users["hq"])
    assert client.get(FLOW, headers=headers).status_code == 200
    before = _records(session)
    # as another process or the CLI would: committed to the database, nothing said to this process
    session.execute(update(User).where(User.id == users["hq"].id).values(**change))
    session.commit()
    for refused in (client.get(FLOW, headers=headers), client.post(FLOW, headers=headers, json={})):
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    assert _records(session) == before


def test_refusals_in_the_trip_are_audited_for_the_checked_caller(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    headers = _seen(client, users["other"])
    resp = client.get(FLOW, headers=headers)
    assert resp.status_code == 404 and resp.json()["code"] == "loan_not_found"
    session.expire_all()
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "http.get", AuditEntry.actor_id == users["other"].id)
    ).all()
    assert [(e.outcome, FLOW in e.subject_ids) for e in audited] == [("not_found", True)]


def test_a_seen_token_without_the_permission_is_refused_as_before(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    headers = _seen(client, users["regulator"])
    resp = client.get(FLOW, headers=headers)
    assert resp.status_code == 403 and resp.json()["code"] == "permission_denied"
    session.expire_all()
    denied = session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == users["regulator"].id, AuditEntry.outcome == "denied")
    )
    assert [e.action for e in denied] == ["http.get"]


def test_credentials_are_decided_before_the_parameters(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    bad = {"max_hops": 7}
    assert client.get(FLOW, params=bad).status_code == 401
    assert client.get(FLOW, params=bad, headers=_seen(client, users["regulator"])).status_code == 403
    assert client.get(FLOW, params=bad, headers=_seen(client, users["hq"])).status_code == 422
