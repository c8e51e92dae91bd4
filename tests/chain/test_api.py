"""The chain API on the hand-built region of lake.py: every figure below is worked out by hand there."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import U, rows, write

BASE = "/api/v1/chains/new_display"
MARCH = {"from_month": "2024-03", "to_month": "2024-03"}


@pytest.fixture
def headers(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    users = {
        "regulator": make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST),
        "bank": make_user(session, make_org(session, OrgKind.BANK_HEAD_OFFICE), Role.BANK_HQ_RISK),
        "enterprise": make_user(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN),
    }
    session.commit()
    write(Lake(settings.lake_dir), rows())
    return {name: login(client, user.username) for name, user in users.items()}


def test_chains_and_members(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    chains = client.get("/api/v1/chains", headers=headers["regulator"]).json()
    nd = next(c for c in chains if c["code"] == "new_display")
    assert nd["members"] == 5 and nd["chief_bank_name"] == "嘉陵银行股份有限公司"
    assert [(s["code"], s["members"]) for s in nd["segments"]] == [
        ("materials", 2), ("panels", 1), ("modules", 1), ("devices", 0), ("dealers", 1),
    ]  # fmt: skip
    page = client.get(f"{BASE}/members", headers=headers["regulator"], params={"limit": 2}).json()
    assert page["total"] == 5
    assert page["items"][0]["uscc"] == U["c"] and page["items"][0]["is_core"]
    assert page["items"][0]["mapped_segment"] == "panels"


def test_flows_between_segments_and_net(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    body = client.get(f"{BASE}/flows", headers=headers["regulator"], params=MARCH).json()
    flows = {(f["from_segment"], f["to_segment"]): (f["txn_count"], f["total_amount"]) for f in body["flows"]}
    assert flows == {
        ("panels", "materials"): (2, "1000000.00"),
        ("modules", "panels"): (1, "1000000.00"),
        ("dealers", "modules"): (1, "300000.00"),
    }
    net = {n["segment"]: n["net"] for n in body["net"]}
    assert net == {
        "materials": "1000000.00",
        "panels": "0.00",
        "modules": "-700000.00",
        "dealers": "-300000.00",
    }


def test_external_flows_and_gaps(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    ext = client.get(f"{BASE}/external-flows", headers=headers["regulator"], params=MARCH).json()
    materials = {
        (e["direction"], e["counterparty"]): e["total_amount"] for e in ext if e["segment"] == "materials"
    }
    assert materials == {
        ("in", "chain"): "1000000.00",
        ("in", "region"): "400000.00",
        ("out", "region"): "200000.00",
    }
    gaps = {
        g["segment"]: g for g in client.get(f"{BASE}/gaps", headers=headers["regulator"], params=MARCH).json()
    }
    # Average paid inside the chain: (0 + 1,000,000 + 1,000,000 + 0 + 300,000) / 5 = 460,000; a quarter is 115,000.
    assert gaps["materials"]["advice"] == ["supplement", "extend", "strengthen"]
    assert gaps["materials"]["leak_share"] == "1.0000"
    assert gaps["devices"]["advice"] == ["supplement", "strengthen"]
    assert gaps["dealers"]["advice"] == ["supplement"]


def test_counterparties_health_of_the_core(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    resp = client.get(
        f"{BASE}/members/{U['c']}/counterparties",
        headers=headers["regulator"],
        params={"as_of_month": "2024-03"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    suppliers = {s["uscc"]: (s["amount"], s["flags"]) for s in body["suppliers"]}
    assert suppliers == {
        U["m1"]: ("650000.00", []),  # 600,000 in 2024-03 and 50,000 in 2023-10 (six months to 2024-03)
        U["m2"]: ("400000.00", ["headcount_drop", "irregular_payments"]),
    }
    assert [(d["uscc"], d["flags"]) for d in body["dealers"]] == [
        (U["d1"], ["judicial", "irregular_payments"])
    ]
    assert body["healthy_supplier_share"] == "0.5000" and body["healthy_dealer_share"] == "0.0000"
    # tax in 2023-04..2024-03 / tax in 2022-04..2023-03 − 1: m1 (45,000 + 5,000) / 40,000 − 1 = 0.25; d1
    # 70,000 / 90,000 − 1 = −0.22222… → −0.2222 (no tax_drop: above −0.3); m2 paid nothing before: no base.
    # The core's own: 80,000 / 100,000 − 1 = −0.2.
    changes = {c["uscc"]: c["tax_change"] for c in body["suppliers"] + body["dealers"]}
    assert changes == {U["m1"]: "0.2500", U["m2"]: None, U["d1"]: "-0.2222"}
    assert body["enterprise"]["tax_change"] == "-0.2000"


def test_contagion_when_the_core_stops_paying(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    # Window 2024-01..03. m1 takes 600,000 from c only: W = 1; m2 takes 400,000 of 800,000 from c: W = 0.5;
    # then m1 (h = 1) stops paying x, whose 200,000 all came from m1: h = 1. The 2023-10 payment is too old.
    body = client.get(
        f"{BASE}/members/{U['c']}/contagion", headers=headers["regulator"], params={"as_of_month": "2024-03"}
    ).json()
    hit = [(e["uscc"], e["tier"], e["exposure"], e["distress"], e["loss"]) for e in body["exposed"]]
    assert hit == [
        (U["m1"], 1, "600000.00", "1.000000", "600000.00"),
        (U["m2"], 1, "400000.00", "0.500000", "400000.00"),
        (U["x"], 2, "200000.00", "1.000000", "200000.00"),
    ]
    assert body["total_loss"] == "1200000.00"


def test_loans_by_quarter_term_and_bank(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    body = client.get(
        f"{BASE}/loans", headers=headers["regulator"], params={"from_month": "2024-01", "to_month": "2024-06"}
    ).json()
    q1, q2 = body["by_quarter"]
    assert (q1["quarter"], q1["amount"], q1["medium_long_share"], q1["growth_qoq"]) == (
        "2024-Q1", "31000000.00", "0.9677", None,
    )  # fmt: skip
    assert (q2["amount"], q2["growth_qoq"], q2["manufacturing_growth_qoq"]) == (
        "50000000.00",
        "0.6129",
        "0.6129",
    )
    assert body["total_amount"] == "81000000.00" and body["medium_long_share"] == "0.3704"
    assert body["coverage_share"] == "0.4000"  # c and m1 of five members; x is not a member
    chief = next(b for b in body["by_bank"] if b["chain_chief"])
    assert (chief["head_code"], chief["amount"]) == ("H1", "80000000.00")


def test_network_ranks_members(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    body = client.get(
        f"{BASE}/network", headers=headers["regulator"], params={"as_of_month": "2024-03"}
    ).json()
    assert body["nodes"] == 6 and body["links"] == 6 and body["betweenness_computed"]
    paid = {r["uscc"]: r["paid"] for r in body["ranking"]}
    assert paid[U["c"]] == "1016384.00"  # 600,000 + 400,000 + 50,000 × 0.8^5 (decayed, five months old)
    assert U["x"] not in paid  # ranked only among members


def test_access_and_problems(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    assert client.get(f"{BASE}/flows", headers=headers["bank"], params=MARCH).status_code == 403
    assert client.get(f"{BASE}/flows", params=MARCH).status_code == 401
    missing = client.get("/api/v1/chains/nope/flows", headers=headers["regulator"], params=MARCH)
    assert missing.status_code == 404 and missing.json()["code"] == "chain_not_found"
    bad = client.get(
        f"{BASE}/flows", headers=headers["regulator"], params={"from_month": "2024-13", "to_month": "x"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    back = client.get(
        f"{BASE}/flows", headers=headers["regulator"], params={"from_month": "2024-05", "to_month": "2024-01"}
    )
    assert back.status_code == 422 and back.json()["errors"][0]["field"] == "to_month"
    outsider = client.get(
        f"{BASE}/members/{U['x']}/contagion", headers=headers["regulator"], params={"as_of_month": "2024-03"}
    )
    assert outsider.status_code == 404 and outsider.json()["code"] == "chain_member_not_found"
