"""Idempotency-Key on POST /financing/demands, as a client sees it: a retry returns the first demand, a reused
key with another body is refused, keys belong to one enterprise; on PostgreSQL two concurrent posts with one
key make one demand."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.core import db
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.financing.calendars import load_calendar
from jinyu.financing.models import FinancingDemand, WorkOrder
from jinyu.financing.schemas import DemandCreate, Security
from jinyu.financing.service.demands import post_once
from tests.fixtures.auth import login, make_org, make_user, principal

API = "/api/v1/financing/demands"
BODY = {"amount": "3000000.00", "term_months": 12, "purpose": "采购原材料", "security": "credit"}


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def setup(session: Session, client: TestClient) -> tuple[dict[str, str], dict[str, str], str]:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    one, two = make_org(session, OrgKind.ENTERPRISE), make_org(session, OrgKind.ENTERPRISE)
    users = [make_user(session, org, Role.ENTERPRISE_ADMIN) for org in (one, two)]
    session.commit()
    return login(client, users[0].username), login(client, users[1].username), bank.id


def test_a_retry_with_the_key_returns_the_first_demand(
    client: TestClient, session: Session, setup: tuple[dict[str, str], dict[str, str], str]
) -> None:
    ent, _, bank = setup
    body = BODY | {"preferred_bank_ids": [bank]}
    first = client.post(API, json=body, headers=ent | {"Idempotency-Key": "req-0001"})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    # the same request again, the amount written without its zeros: the same demand, nothing new
    again = client.post(API, json=body | {"amount": "3000000"}, headers=ent | {"Idempotency-Key": "req-0001"})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["demand"]["id"] == first.json()["demand"]["id"]
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    session.expire_all()
    assert (_count(session, FinancingDemand), _count(session, WorkOrder)) == (1, 1)


def test_the_key_with_another_body_is_refused(
    client: TestClient, session: Session, setup: tuple[dict[str, str], dict[str, str], str]
) -> None:
    ent, _, bank = setup
    body = BODY | {"preferred_bank_ids": [bank]}
    assert client.post(API, json=body, headers=ent | {"Idempotency-Key": "k1"}).status_code == 201
    clash = client.post(API, json=body | {"term_months": 24}, headers=ent | {"Idempotency-Key": "k1"})
    assert clash.status_code == 409, clash.text
    assert clash.headers["content-type"].startswith("application/problem+json")
    problem = clash.json()
    assert problem["code"] == "idempotency_conflict"
    assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]
    session.expire_all()
    assert _count(session, FinancingDemand) == 1


def test_keys_are_per_enterprise_and_no_key_means_a_new_demand(
    client: TestClient, session: Session, setup: tuple[dict[str, str], dict[str, str], str]
) -> None:
    ent, ent2, bank = setup
    body = BODY | {"preferred_bank_ids": [bank]}
    a = client.post(API, json=body, headers=ent | {"Idempotency-Key": "shared"})
    b = client.post(API, json=body, headers=ent2 | {"Idempotency-Key": "shared"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["demand"]["id"] != b.json()["demand"]["id"]
    assert client.post(API, json=body, headers=ent).status_code == 201
    assert client.post(API, json=body, headers=ent).status_code == 201
    bad = client.post(API, json=body, headers=ent | {"Idempotency-Key": "x" * 65})
    assert bad.status_code == 422, bad.text
    session.expire_all()
    assert _count(session, FinancingDemand) == 4


@pytest.mark.postgres
def test_two_concurrent_posts_with_one_key_make_one_demand(pg_factory: sessionmaker[Session]) -> None:
    with db.transaction(pg_factory) as s:
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        ent: Principal = principal(s, make_org(s, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)
    data = DemandCreate(
        amount=Decimal("500000.00"), term_months=6, purpose="备货周转", security=Security.CREDIT,
        preferred_bank_ids=[bank.id],
    )  # fmt: skip
    calendar = load_calendar(Path("/nonexistent"))
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with db.transaction(pg_factory) as s:
                posted, replayed = post_once(s, ent, data, calendar, "same-key")
                results[i] = (posted.demand.id, posted.order.id, replayed)
        except BaseException as exc:  # reported by the test thread
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0][:2] == results[1][:2]
    assert sorted(r[2] for r in results) == [False, True]
    with db.transaction(pg_factory) as s:
        assert (_count(s, FinancingDemand), _count(s, WorkOrder)) == (1, 1)


@pytest.mark.postgres
def test_a_post_losing_the_race_on_the_unique_key_replays_the_winner(
    pg_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic form of the race: the other post commits between this post's look-up and its insert, so
    the insert hits the unique (enterprise_id, idempotency_key), rolls back to its savepoint and replays."""
    from jinyu.financing.service import demands

    with db.transaction(pg_factory) as s:
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        ent: Principal = principal(s, make_org(s, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)
    data = DemandCreate(
        amount=Decimal("500000.00"), term_months=6, purpose="备货周转", security=Security.CREDIT,
        preferred_bank_ids=[bank.id],
    )  # fmt: skip
    calendar = load_calendar(Path("/nonexistent"))
    real_replay, calls = demands._replay, []

    def replay_after_the_winner(session: Session, *args: Any) -> Any:
        if not calls:  # the first look-up finds nothing; meanwhile the winner commits
            calls.append(1)
            with db.transaction(pg_factory) as other:
                winner.append(post_once(other, ent, data, calendar, "raced")[0])
            return None
        return real_replay(session, *args)

    winner: list[Any] = []
    monkeypatch.setattr(demands, "_replay", replay_after_the_winner)
    with db.transaction(pg_factory) as s:
        posted, replayed = post_once(s, ent, data, calendar, "raced")
    assert replayed and posted.demand.id == winner[0].demand.id
    with db.transaction(pg_factory) as s:
        assert _count(s, FinancingDemand) == 1
