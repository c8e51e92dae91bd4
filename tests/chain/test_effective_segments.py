"""A segment override of the chain's definition reaches every analysis that groups by segment, over HTTP:
after moving m1 (materials) to modules, its payments are modules' in the flows, external flows, the segment
counts, the network ranking and the loans' coverage; removing the override moves them back.

Worked by hand on tests/chain/lake.py: in 2024-03 c (panels) pays m1 600,000 and m2 400,000, d1 (modules)
pays c 1,000,000, r1 (dealers) pays d1 300,000, m1 pays x (a region enterprise outside the chain) 200,000."""

from __future__ import annotations

from importlib.resources import files

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.chain.queries import EFFECTIVE_MEMBERS, overrides_param
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import U, rows, write

CHAIN = "/api/v1/chains/new_display"
MARCH = {"from_month": "2024-03", "to_month": "2024-03"}


@pytest.fixture
def who(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    regulator = make_org(session, OrgKind.REGULATOR)
    users = {
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
    }
    session.commit()
    write(Lake(settings.lake_dir), rows())
    return {name: login(client, u.username) for name, u in users.items()}


def _flows(client: TestClient, who: dict[str, dict[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    answer = client.get(f"{CHAIN}/flows", headers=who["analyst"], params=MARCH)
    assert answer.status_code == 200, answer.text
    return {
        (f["from_segment"], f["to_segment"]): (f["txn_count"], f["total_amount"])
        for f in answer.json()["flows"]
    }


def _m1_out_to_region(client: TestClient, who: dict[str, dict[str, str]]) -> set[str]:
    answer = client.get(f"{CHAIN}/external-flows", headers=who["analyst"], params=MARCH).json()
    return {r["segment"] for r in answer if r["direction"] == "out" and r["counterparty"] == "region"}


def test_an_override_moves_an_enterprises_flows_to_its_new_segment(
    client: TestClient, who: dict[str, dict[str, str]]
) -> None:
    assert _flows(client, who) == {
        ("panels", "materials"): (2, "1000000.00"),
        ("modules", "panels"): (1, "1000000.00"),
        ("dealers", "modules"): (1, "300000.00"),
    }
    url = f"{CHAIN}/members/{U['m1']}/segment"
    moved = client.put(
        url, headers=who["supervisor"], json={"version": 0, "segment": "modules", "note": "改派"}
    )
    assert moved.status_code == 200, moved.text

    assert _flows(client, who) == {
        ("panels", "materials"): (1, "400000.00"),  # m2 only
        ("panels", "modules"): (1, "600000.00"),  # c → m1, now modules
        ("modules", "panels"): (1, "1000000.00"),
        ("dealers", "modules"): (1, "300000.00"),
    }
    net = client.get(f"{CHAIN}/flows", headers=who["analyst"], params=MARCH).json()["net"]
    modules = next(n for n in net if n["segment"] == "modules")
    assert (modules["inflow"], modules["outflow"]) == ("900000.00", "1000000.00")
    assert _m1_out_to_region(client, who) == {"modules"}  # m1 paid x 200,000
    segments = {s["code"]: s["members"] for s in client.get(CHAIN, headers=who["analyst"]).json()["segments"]}
    assert (segments["materials"], segments["modules"]) == (1, 2)
    ranking = client.get(f"{CHAIN}/network", headers=who["analyst"], params={"as_of_month": "2024-03"}).json()
    assert next(r for r in ranking["ranking"] if r["uscc"] == U["m1"])["segment"] == "modules"
    coverage = client.get(f"{CHAIN}/loans", headers=who["analyst"], params=MARCH).json()["coverage"]
    assert {c["segment"]: c["members"] for c in coverage}.get("modules") == 2

    back = client.put(url, headers=who["supervisor"], json={"version": 1, "segment": None})
    assert back.status_code == 200, back.text
    assert _flows(client, who)[("panels", "materials")] == (2, "1000000.00")
    assert _m1_out_to_region(client, who) == {"materials"}


def test_the_overrides_parameter_is_sorted_text() -> None:
    assert overrides_param({"b": {"U2": "s", "U1": "t"}, "a": {}}) == "b:U1:t;b:U2:s"
    assert overrides_param({}) == ""


def test_segment_flows_use_the_same_effective_members_as_the_chain_queries() -> None:
    sql = (files("jinyu.analytics") / "queries" / "chain_segment_flows.sql").read_text(encoding="utf-8")
    assert EFFECTIVE_MEMBERS.strip() in sql
