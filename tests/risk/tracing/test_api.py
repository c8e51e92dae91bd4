"""The tracing API under /api/v1/risk: GET and POST checks, batches, problem+json refusals."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import golden_rows, write

BASE = "/api/v1/risk"


@pytest.fixture
def headers(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    h1 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    b1 = make_org(session, OrgKind.BANK_BRANCH, parent=h1, code="B1")
    h2 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H2")
    users = {
        "hq": make_user(session, h1, Role.BANK_HQ_RISK),
        "branch": make_user(session, b1, Role.BANK_BRANCH_OFFICER),
        "other": make_user(session, h2, Role.BANK_HQ_RISK),
        "regulator": make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST),
    }
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    return {name: login(client, user.username) for name, user in users.items()}


def test_get_and_post_return_flow(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    got = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"], params={"policy": "fifo"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["verdict"], body["returned_amount"], body["basis"]["policy"]) == (
        "risky",
        "590000.00",
        "fifo",
    )
    posted = client.post(f"{BASE}/loans/L1/return-flow", headers=headers["branch"], json={"max_hops": 1})
    assert posted.status_code == 200, posted.text
    assert posted.json()["returned_amount"] == "200000.00"
    assert posted.json()["inquiry_id"] != body["inquiry_id"]


def test_misuse(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    resp = client.post(f"{BASE}/loans/L2/misuse", headers=headers["hq"], json={})
    assert resp.status_code == 200, resp.text
    lines = {x["kind"]: x["amount"] for x in resp.json()["by_category"]}
    assert lines == {
        "securities": "0.00",
        "real_estate": "0.00",
        "other_loan": "200000.00",
        "intermediary_repayment": "10000.00",
        "shell": "300000.00",
    }
    assert client.get(f"{BASE}/loans/L2/misuse", headers=headers["hq"]).json()["verdict"] == "risky"


def test_another_banks_loan_is_not_found(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    for path in ("return-flow", "misuse"):
        resp = client.get(f"{BASE}/loans/L1/{path}", headers=headers["other"])
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "loan_not_found"
    assert client.get(f"{BASE}/loans/L1/return-flow", headers=headers["regulator"]).status_code == 403


def test_bad_parameters_are_problems(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    for params in ({"max_hops": 7}, {"window_days": 181}, {"policy": "lifo"}, {"dust": "-1"}):
        resp = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"], params=params)
        assert resp.status_code == 422, params
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["errors"]
    bad = client.post(
        f"{BASE}/batches", headers=headers["hq"], json={"from_date": "2024-03-31", "to_date": "2024-03-01"}
    )
    assert bad.status_code == 422


def test_batch(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    resp = client.post(
        f"{BASE}/batches",
        headers=headers["hq"],
        json={"from_date": "2024-03-01", "to_date": "2024-03-31", "policy": "fifo"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [r["loan_id"] for r in body["rows"]] == ["L1", "L2"]
    assert body["summary"]["risky_loans"] == 2 and body["basis"]["policy"] == "fifo"
    other = client.post(
        f"{BASE}/batches",
        headers=headers["hq"],
        json={"from_date": "2024-03-01", "to_date": "2024-03-31", "bank_code": "B2"},
    )
    assert other.status_code == 404 and other.json()["code"] == "bank_node_not_found"


def test_the_first_check_starts_the_resident_index_and_later_ones_use_it(
    client: TestClient, headers: dict[str, dict[str, str]], settings: Settings
) -> None:
    from jinyu.analytics.flowindex import shared_indexes

    first = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"])
    assert first.status_code == 200, first.text
    assert shared_indexes().wait(60)  # the build the first request started in the background
    shared_indexes().get(settings.lake_dir)  # (a build of another test's lake may have been running)
    assert shared_indexes().wait(60)
    later = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"])
    assert later.status_code == 200, later.text
    assert "resident" in later.json()["basis"]["method"]
    same = (
        "verdict",
        "returned_amount",
        "returned_share",
        "by_hop",
        "by_relation",
        "attribution",
        "evidence",
    )
    assert {k: later.json()[k] for k in same} == {k: first.json()[k] for k in same}


def test_a_warm_check_lists_each_dataset_of_the_lake_once(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The data version, the resident index's and the context's freshness checks share one listing."""
    from jinyu.analytics import layout, listing
    from jinyu.analytics.flowindex import shared_indexes
    from jinyu.risk.tracing.service.context import shared_contexts

    assert client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"]).status_code == 200
    for _ in range(3):  # (another test's lake may have been building in this process)
        shared_indexes().get(settings.lake_dir)
        shared_contexts().get(settings.lake_dir)
        assert shared_indexes().wait(60) and shared_contexts().wait(60)
    walk, listed = listing._walk, []

    def counting(directory: str, rel: str, found: list[tuple[str, int, int]]) -> None:
        if "/" not in rel:  # a dataset's own directory, not one of its partitions
            listed.append(rel)
        walk(directory, rel, found)

    monkeypatch.setattr(listing, "_walk", counting)
    marker = settings.lake_dir / layout.CHANGED_MARKER
    marker.unlink(missing_ok=True)  # no change marker (a lake from before it): every request lists the lake
    got = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"])
    assert got.status_code == 200, got.text
    assert "resident" in got.json()["basis"]["method"]
    assert "transfers" in listed and len(listed) == len(set(listed))  # each dataset once, not three times

    # A marker no write has replaced for a while: the next request lists and keeps it, the one after lists none.
    layout.mark_changed(settings.lake_dir)
    os.utime(marker, ns=(1_600_000_000_000_000_000,) * 2)
    answers = []
    for expected in (True, False):
        listed.clear()
        got = client.get(f"{BASE}/loans/L1/return-flow", headers=headers["hq"])
        assert got.status_code == 200, got.text
        assert ("transfers" in listed) is expected
        answers.append({k: v for k, v in got.json().items() if k not in ("inquiry_id", "basis")})
    assert answers[0] == answers[1]
    layout.mark_changed(settings.lake_dir)  # fresh again for the tests after this one
