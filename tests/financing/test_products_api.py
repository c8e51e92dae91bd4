"""Bank financing products through the HTTP API: who may maintain them, and routing by product fit."""

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
class Banks:
    a: OrgOut
    b: OrgOut
    h: dict[str, dict[str, str]]


@pytest.fixture
def banks(session: Session, client: TestClient) -> Banks:
    a = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="FITA1")
    b = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="FITB1")
    for bank in (a, b):
        make_org(session, OrgKind.BANK_OUTLET, parent=make_org(session, OrgKind.BANK_BRANCH, parent=bank))
    enterprise = make_org(session, OrgKind.ENTERPRISE)
    users = {
        "a": make_user(session, a, Role.BANK_HQ_RISK),
        "b": make_user(session, b, Role.BANK_HQ_RISK),
        "ent": make_user(session, enterprise, Role.ENTERPRISE_ADMIN),
    }
    session.commit()
    return Banks(a, b, {k: login(client, u.username) for k, u in users.items()})


def product(code: str = "P1", **extra: object) -> dict[str, object]:
    return {
        "code": code, "name": "设备贷", "min_amount": "100000.00", "max_amount": "1000000.00",
        "min_term_months": 6, "max_term_months": 36, "purposes": ["设备"], "security_kinds": ["collateral"],
    } | extra  # fmt: skip


def demand(client: TestClient, w: Banks, amount: str, preferred: list[str]) -> dict[str, object]:
    body = {
        "amount": amount, "term_months": 12, "purpose": "设备更新", "security": "collateral",
        "preferred_bank_ids": preferred,
    }  # fmt: skip
    resp = client.post(f"{API}/demands", json=body, headers=w.h["ent"])
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["order"])


def test_a_bank_maintains_only_its_own_products(client: TestClient, banks: Banks) -> None:
    w = banks
    resp = client.post(f"{API}/products", json=product(), headers=w.h["a"])
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert (made["bank_id"], made["min_amount"], made["active"]) == (w.a.id, "100000.00", True)
    assert client.post(f"{API}/products", json=product(), headers=w.h["a"]).status_code == 409
    # Another bank cannot see it to change it: 404, not 403.
    resp = client.put(f"{API}/products/{made['id']}", json=product(active=False), headers=w.h["b"])
    assert resp.status_code == 404
    # An enterprise may read the catalogue but not write to it.
    assert client.post(f"{API}/products", json=product("P2"), headers=w.h["ent"]).status_code == 403
    listed = client.get(f"{API}/products", params={"bank_id": w.a.id}, headers=w.h["ent"]).json()
    assert [p["code"] for p in listed] == ["P1"]
    resp = client.put(f"{API}/products/{made['id']}", json=product(active=False), headers=w.h["a"])
    assert resp.status_code == 200 and resp.json()["active"] is False
    assert client.get(f"{API}/products", params={"active": "true"}, headers=w.h["a"]).json() == []
    # Bad ranges and kinds are refused per field.
    bad = client.post(
        f"{API}/products",
        json=product("P3", min_amount="2000000.00", security_kinds=["mortgage"]),
        headers=w.h["a"],
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"min_amount", "security_kinds[0]"}


def test_routing_skips_banks_without_a_fitting_product(client: TestClient, banks: Banks) -> None:
    w = banks
    # No products anywhere yet: routing is as before (the preferred bank).
    assert demand(client, w, "3000000.00", [w.a.id])["route_rule"] == "preferred"
    # a's product covers up to 1,000,000.00; b's up to 5,000,000.00.
    assert client.post(f"{API}/products", json=product("A-SMALL"), headers=w.h["a"]).status_code == 201
    big = product("B-BIG", max_amount="5000000.00")
    assert client.post(f"{API}/products", json=big, headers=w.h["b"]).status_code == 201
    order = demand(client, w, "3000000.00", [w.a.id])
    assert order["bank_id"] == w.b.id and order["product_code"] == "B-BIG"
    assert order["route_rule"] == f"district_load; skipped preferred:{w.a.id} no_product_fit"
    # 1,000,000.00 is inside a's range (inclusive): the preferred bank takes it with its product.
    order = demand(client, w, "1000000.00", [w.a.id])
    assert (order["bank_id"], order["route_rule"], order["product_code"]) == (w.a.id, "preferred", "A-SMALL")
    # Nobody covers 6,000,000.00: no bank available.
    body = {"amount": "6000000.00", "term_months": 12, "purpose": "设备", "security": "collateral"}
    resp = client.post(f"{API}/demands", json=body, headers=w.h["ent"])
    assert resp.status_code == 409 and resp.json()["code"] == "no_bank_available"
