"""The issue's story through the HTTP API, as a client sees it across requests: an enterprise posts a demand,
the bank assigns it, accepts, contacts and decides; the regulator finds the order with its history, sees the
bank's indicators move, sends window guidance, and the bank acknowledges it. Plus who may see what."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from jinyu.party.schemas import OrgOut
from tests.fixtures.auth import login, make_org, make_user

API = "/api/v1/financing"


@dataclass
class World:
    bank: OrgOut
    branch: OrgOut
    outlet: OrgOut
    other_outlet: OrgOut
    enterprise: OrgOut
    other_enterprise: OrgOut
    manager_id: str
    h: dict[str, dict[str, str]]


@pytest.fixture
def world(session: Session, client: TestClient) -> World:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="渝银行")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    outlet = make_org(session, OrgKind.BANK_OUTLET, parent=branch)
    other_outlet = make_org(session, OrgKind.BANK_OUTLET, parent=branch)
    enterprise = make_org(session, OrgKind.ENTERPRISE)
    other_enterprise = make_org(session, OrgKind.ENTERPRISE)
    regulator = make_org(session, OrgKind.REGULATOR)
    operator = make_org(session, OrgKind.OPERATOR)
    users = {
        "ent": make_user(session, enterprise, Role.ENTERPRISE_ADMIN),
        "ent2": make_user(session, other_enterprise, Role.ENTERPRISE_ADMIN),
        "hq": make_user(session, bank, Role.BANK_HQ_RISK),
        "mgr": make_user(session, outlet, Role.CUSTOMER_MANAGER),
        "mgr2": make_user(session, other_outlet, Role.CUSTOMER_MANAGER),
        "reg": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "ops": make_user(session, operator, Role.PLATFORM_ADMIN),
        "fc": make_user(session, operator, Role.FINANCIAL_CONSULTANT),
    }
    ids = {k: u.id for k, u in users.items()}
    session.commit()
    headers = {k: login(client, u.username) for k, u in users.items()}
    headers["_ids"] = ids  # type: ignore[assignment]
    return World(bank, branch, outlet, other_outlet, enterprise, other_enterprise, ids["mgr"], headers)


def post_demand(client: TestClient, w: World, who: str = "ent", **extra: object) -> dict[str, object]:
    body = {
        "amount": "3000000.00",
        "term_months": 12,
        "purpose": "采购原材料 / raw materials",
        "security": "collateral",
        "security_note": "厂房抵押",
        "preferred_bank_ids": [w.bank.id],
    } | extra
    resp = client.post(f"{API}/demands", json=body, headers=w.h[who])
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["order"])


def step(client: TestClient, w: World, order_id: str, who: str, **body: object) -> dict[str, object]:
    resp = client.post(f"{API}/orders/{order_id}/transitions", json=body, headers=w.h[who])
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_demand_to_decision_seen_by_the_regulator(client: TestClient, world: World) -> None:
    w = world
    order = post_demand(client, w)
    assert (
        order["state"] == "dispatched"
        and order["bank_id"] == w.bank.id
        and order["route_rule"] == "preferred"
    )
    oid = str(order["id"])
    # The bank's head office sees it and assigns the outlet and its customer manager.
    resp = client.post(
        f"{API}/orders/{oid}/assignment",
        json={"outlet_id": w.outlet.id, "manager_id": w.manager_id},
        headers=w.h["hq"],
    )
    assert resp.status_code == 200, resp.text
    # Another outlet's manager does not see the order at all.
    assert client.get(f"{API}/orders/{oid}", headers=w.h["mgr2"]).status_code == 404
    step(client, w, oid, "mgr", action="accept")
    contacted = step(client, w, oid, "mgr", action="contact", note="电话联系财务负责人")
    assert contacted["contact_working_days"] == 0 and contacted["overdue"] is False
    step(client, w, oid, "mgr", action="review")
    approved = step(client, w, oid, "mgr", action="approve", amount_approved="2500000.00")
    assert approved["state"] == "approved" and approved["amount_approved"] == "2500000.00"
    # The enterprise sees the decision and rates it, once.
    mine = client.get(f"{API}/orders/{oid}", headers=w.h["ent"]).json()
    assert mine["state"] == "approved"
    assert client.post(f"{API}/orders/{oid}/rating", json={"stars": 5}, headers=w.h["ent"]).status_code == 200
    again = client.post(f"{API}/orders/{oid}/rating", json={"stars": 1}, headers=w.h["ent"])
    assert again.status_code == 409
    # The regulator finds the order with its whole history.
    seen = client.get(f"{API}/orders/{oid}", headers=w.h["reg"]).json()
    actions = [(e["action"], e["from_state"], e["to_state"]) for e in seen["events"]]
    assert actions == [
        ("dispatch", "created", "dispatched"),
        ("assign", "dispatched", "dispatched"),
        ("accept", "dispatched", "accepted"),
        ("contact", "accepted", "contacted"),
        ("review", "contacted", "under_review"),
        ("approve", "under_review", "approved"),
        ("rate", "approved", "approved"),
    ]
    assert all(e["actor_id"] and e["at"] for e in seen["events"])


def test_indicators_move_and_guidance_is_acknowledged(client: TestClient, world: World) -> None:
    w = world

    def bank_row() -> dict[str, object]:
        table = client.get(
            f"{API}/indicators", params={"group_by": "bank", "bank": w.bank.id}, headers=w.h["reg"]
        )
        assert table.status_code == 200, table.text
        rows = table.json()["rows"]
        return dict(rows[0]) if rows else {}

    assert bank_row() == {}
    first = str(post_demand(client, w)["id"])
    second = str(post_demand(client, w, amount="1000000.00")["id"])
    row = bank_row()
    assert (row["orders"], row["contacted"], row["contact_rate"]) == (2, 0, "0.0000")
    assert row["amount_requested"] == "4000000.00" and row["name"] == "渝银行"
    step(client, w, first, "hq", action="accept")
    step(client, w, first, "hq", action="contact")
    step(client, w, second, "hq", action="reject", reason_code="R02", note="抵押物不足")
    row = bank_row()
    assert (row["contacted"], row["contact_rate"], row["decided"], row["approved"]) == (1, "0.5000", 1, 0)
    assert row["approval_rate"] == "0.0000" and row["avg_days_to_contact"] == "0.00"
    # Window guidance to the bank, chosen by its contact rate; the bank acknowledges.
    sent = client.post(
        f"{API}/guidance",
        json={
            "bank_id": w.bank.id,
            "indicator": "contact_rate",
            "message": "请加快首次联系 / contact faster",
        },
        headers=w.h["reg"],
    )
    assert sent.status_code == 201, sent.text
    notice = sent.json()
    assert notice["baseline"] == "0.5000" and notice["acknowledged_at"] is None
    assert client.get(f"{API}/guidance/{notice['id']}", headers=w.h["ent"]).status_code == 404
    ack = client.post(
        f"{API}/guidance/{notice['id']}/acknowledgement", json={"note": "已部署整改"}, headers=w.h["hq"]
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["acknowledged_at"] is not None
    # The other order gets contacted too: the notice shows the indicator's change since guidance.
    third = str(post_demand(client, w)["id"])
    step(client, w, third, "hq", action="accept")
    step(client, w, third, "hq", action="contact")
    later = client.get(f"{API}/guidance/{notice['id']}", headers=w.h["reg"]).json()
    assert later["current"] == "0.6667" and later["change"] == "0.1667"


def test_rejection_needs_a_code_and_redispatch_moves_to_another_bank(
    client: TestClient, world: World, session: Session
) -> None:
    w = world
    other_bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    session.commit()
    order = post_demand(client, w, preferred_bank_ids=[w.bank.id, other_bank.id])
    oid = str(order["id"])
    bad = client.post(f"{API}/orders/{oid}/transitions", json={"action": "reject"}, headers=w.h["hq"])
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["reason_code"]
    early = client.post(f"{API}/orders/{oid}/redispatch", json={}, headers=w.h["ent"])
    assert early.status_code == 409  # neither rejected nor overdue
    step(client, w, oid, "hq", action="reject", reason_code="R06")
    moved = client.post(f"{API}/orders/{oid}/redispatch", json={"note": "换一家"}, headers=w.h["ent"])
    assert moved.status_code == 201, moved.text
    new = moved.json()
    assert (
        new["bank_id"] == other_bank.id and new["previous_order_id"] == oid and new["state"] == "dispatched"
    )
    old = client.get(f"{API}/orders/{oid}", headers=w.h["ent"]).json()
    assert old["state"] == "closed" and old["refusal_code"] == "R06"
    # The first bank no longer sees the demand's new order.
    assert client.get(f"{API}/orders/{new['id']}", headers=w.h["hq"]).status_code == 404


def test_who_sees_which_orders(client: TestClient, world: World) -> None:
    w = world
    mine = str(post_demand(client, w)["id"])
    theirs = str(post_demand(client, w, who="ent2")["id"])
    assert client.get(f"{API}/orders/{theirs}", headers=w.h["ent"]).status_code == 404
    # Until the bank assigns an outlet, outlets see nothing; the head office sees both.
    assert client.get(f"{API}/orders", headers=w.h["mgr"]).json()["total"] == 0
    assert client.get(f"{API}/orders", headers=w.h["hq"]).json()["total"] == 2
    # A consultant sees only the enterprises assigned to them.
    fc = w.h["_ids"]["fc"]  # type: ignore[index]
    assert client.get(f"{API}/orders", headers=w.h["fc"]).json()["total"] == 0
    resp = client.post(
        f"{API}/consultant-assignments",
        json={"consultant_id": fc, "enterprise_id": w.enterprise.id},
        headers=w.h["ops"],
    )
    assert resp.status_code == 201, resp.text
    listed = client.get(f"{API}/orders", headers=w.h["fc"]).json()
    assert [o["id"] for o in listed["items"]] == [mine]
    assert client.get(f"{API}/orders/{theirs}", headers=w.h["fc"]).status_code == 404
    # A consultant reads but never acts.
    assert (
        client.post(
            f"{API}/orders/{mine}/transitions", json={"action": "accept"}, headers=w.h["fc"]
        ).status_code
        == 403
    )
    # An outlet's manager cannot act on an order held by the head office (not in their subtree): 404.
    assert (
        client.post(
            f"{API}/orders/{mine}/transitions", json={"action": "accept"}, headers=w.h["mgr"]
        ).status_code
        == 404
    )


def test_experts_cover_industries_and_are_assigned_by_the_handling_bank(
    client: TestClient, world: World
) -> None:
    w = world
    order = post_demand(client, w)
    oid = str(order["id"])
    expert = client.post(
        f"{API}/experts",
        json={"name": "陈工", "affiliation": "重庆大学", "fields": ["C36", "I"]},
        headers=w.h["ops"],
    )
    assert expert.status_code == 201, expert.text
    eid = expert.json()["id"]
    bad = client.post(
        f"{API}/experts", json={"name": "x", "affiliation": "y", "fields": ["99"]}, headers=w.h["ops"]
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fields[0]"
    found = client.get(
        f"{API}/experts", params={"industry": "C3670", "available": True}, headers=w.h["hq"]
    ).json()
    assert [e["id"] for e in found] == [eid]
    assert client.get(f"{API}/experts", params={"industry": "A0511"}, headers=w.h["hq"]).json() == []
    # The enterprise's industry (make_org gives none) is not covered: refused with the reason.
    refused = client.post(f"{API}/orders/{oid}/experts", json={"expert_id": eid}, headers=w.h["hq"])
    assert refused.status_code == 422
    client.post(f"{API}/experts/{eid}/availability", json={"available": False}, headers=w.h["ops"])
    assert client.get(f"{API}/experts", params={"available": True}, headers=w.h["hq"]).json() == []
