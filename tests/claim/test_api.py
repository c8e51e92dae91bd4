"""The API as a hospital system and an insurer use it, on committed data (as in production: each request in
its own transaction). The 'done' flow: a hospital settles a discharge, replays it, cancels it and settles
again; the ledger, the accumulators and the daily reconciliation agree to the fen."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.claimresponse import ClaimResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.audit.models import AuditEntry
from jinyu.claim import endpoints
from jinyu.claim import repository as repo
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.service.ledger import balances
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.party import service as party
from jinyu.party.schemas import ServiceAccountCreate
from tests.claim.factories import sample_definition
from tests.fixtures.auth import login, make_org, make_user, resident_id
from tests.fixtures.committed import session, session_factory

__all__ = ["session", "session_factory"]  # committed-data fixtures used by this module
API = "/api/v1/claims"


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings, factory=session_factory)
    if not any(getattr(r, "path", "").startswith(API) for r in app.routes):  # until app.py mounts the router
        app.include_router(endpoints.router, prefix="/api/v1")
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


class Actors:
    def __init__(self, session: Session, client: TestClient) -> None:
        self.insurer = make_org(session, OrgKind.INSURER)
        self.hospital = make_org(session, OrgKind.HOSPITAL)
        self.other_hospital = make_org(session, OrgKind.HOSPITAL)
        self.regulator = make_org(session, OrgKind.REGULATOR)
        staff = make_user(session, self.insurer, Role.INSURER_STAFF)
        analyst = make_user(session, self.regulator, Role.REGULATOR_ANALYST)
        keys = [
            party.create_service_account(
                session,
                SYSTEM,
                ServiceAccountCreate(name=f"HIS {h.code}", org_id=h.id, roles=[Role.HOSPITAL_SYSTEM]),
            ).api_key
            for h in (self.hospital, self.other_hospital)
        ]
        session.commit()
        self.staff = login(client, staff.username)
        self.analyst = login(client, analyst.username)
        self.his = {"X-API-Key": str(keys[0])}
        self.other_his = {"X-API-Key": str(keys[1])}


def request(msg_id: str, setl_id: str, certno: str, **extra: Any) -> dict[str, Any]:
    return {
        "msg_id": msg_id,
        "certno": certno,
        "setlinfo": {
            "mdtrt_id": "202506010001",
            "setl_id": setl_id,
            "setl_time": "2025-06-01T10:30:00",
            "medfee_sumamt": "50000.00",
            "fulamt_ownpay_amt": "10000.00",
            "inscp_scp_amt": "40000.00",
            "hifp_pay": "24000.00",
            "psn_cash_pay": "26000.00",
            "dise_codg": "K35.8",
        },
        "lines": [],
        **extra,
    }


def test_done_settle_replay_cancel_settle_again_and_everything_agrees(
    client: TestClient, session: Session
) -> None:
    a = Actors(session, client)
    certno = resident_id(seq=456)
    definition = sample_definition([a.insurer.code], code="CQ-TEST-2025")
    r = client.post(f"{API}/products", json={"definition": definition, "activate": True}, headers=a.staff)
    assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/ledger/books",
        json={"hospital_id": a.hospital.id, "product_year": 2025, "low_balance_threshold": "50000.00"},
        headers=a.staff,
    )
    assert r.status_code == 201, r.text
    book_id = r.json()["id"]
    r = client.post(
        f"{API}/ledger/books/{book_id}/entries",
        json={"kind": "deposit", "amount": "500000.00", "reference": "PP-2025-01"},
        headers=a.staff,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"{API}/enrollments",
        json={"product_code": "CQ-TEST-2025", "certno": certno, "name": "张三"},
        headers=a.staff,
    )
    assert r.status_code == 201, r.text
    assert r.json()["name_masked"] == "张*" and certno not in r.text

    # 1. settle at discharge (pending), 2. replay, 3. confirm
    first = client.post(f"{API}/settlements", json=request("MSG-1", "SETL-1", certno), headers=a.his)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["payout"], body["cash_after"]) == ("pending", "4200.00", "21800.00")
    assert Decimal(body["funds"]) + Decimal(body["acct_pay"]) + Decimal(body["payout"]) + Decimal(
        body["cash_after"]
    ) == Decimal(body["medfee_sumamt"])
    replay = client.post(f"{API}/settlements", json=request("MSG-1", "SETL-1", certno), headers=a.his)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    conflict = client.post(f"{API}/settlements", json=request("MSG-1", "SETL-X", certno), headers=a.his)
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    sid = body["id"]
    assert (
        client.post(f"{API}/settlements/{sid}/confirm", json={}, headers=a.his).json()["status"] == "settled"
    )

    # another hospital cannot see or cancel it
    assert client.get(f"{API}/settlements/{sid}", headers=a.other_his).status_code == 404
    assert (
        client.post(
            f"{API}/settlements/{sid}/cancel", json={"msg_id": "C", "reason": "越权"}, headers=a.other_his
        ).status_code
        == 404
    )

    # 4. cancel, 5. settle again (the BMI re-settlement has a new setl_id)
    r = client.post(
        f"{API}/settlements/{sid}/cancel", json={"msg_id": "MSG-2", "reason": "重新结算"}, headers=a.his
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = client.post(
        f"{API}/settlements", json=request("MSG-3", "SETL-2", certno, auto_confirm=True), headers=a.his
    )
    assert again.status_code == 201 and again.json()["payout"] == "4200.00"
    assert again.json()["status"] == "settled"
    # one settlement in force per visit: a third one is refused, naming the one in force
    third = client.post(f"{API}/settlements", json=request("MSG-4", "SETL-3", certno), headers=a.his)
    assert third.status_code == 409 and third.headers["content-type"].startswith("application/problem+json")
    assert third.json()["code"] == "visit_already_settled"
    assert third.json()["existing"]["id"] == again.json()["id"]
    assert third.json()["errors"][0]["field"] == "setlinfo.mdtrt_id"
    # the first message replayed: its first answer (pending), saying it has since been cancelled
    replay = client.post(f"{API}/settlements", json=request("MSG-1", "SETL-1", certno), headers=a.his)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert {k: v for k, v in replay.json().items() if k != "since"} == {
        k: v for k, v in body.items() if k != "since"
    }
    assert replay.json()["since"]["status"] == "cancelled" and replay.json()["since"]["note"] == "重新结算"

    # the ledger: one payout of 4,200 in force; cached balances equal the postings
    book = client.get(f"{API}/ledger/books/{book_id}", headers=a.staff).json()
    assert book["balances"] == {
        "prepaid": "495800.00",
        "held": "0.00",
        "payable": "0.00",
        "claims": "4200.00",
        "bank": "-500000.00",
    }
    with session_factory_of(session) as s:
        b = repo.lock_book(s, book_id)
        assert balances(b) == balances_of(repo.book_postings(s, book_id))
    kinds = [
        j["kind"]
        for j in client.get(f"{API}/ledger/books/{book_id}/entries", headers=a.staff).json()["items"]
    ]
    assert sorted(kinds) == ["commit", "deposit", "hold", "reversal", "settle"]

    # the accumulators: the cancelled settlement gave back exactly what it used
    [elig] = client.post(
        f"{API}/eligibility", json={"certno": certno, "on": "2025-06-02"}, headers=a.his
    ).json()
    assert elig["accumulators"]["deductibles"][0]["used"] == "20000.00"
    assert elig["accumulators"]["overall"]["paid"] == "4200.00"

    # the daily reconciliation agrees (record by record), and running it twice changes nothing
    daily = {
        "business_date": "2025-06-01",
        "total_count": 1,
        "total_payout": "4200.00",
        "records": [
            {"mdtrt_id": "202506010001", "setl_id": "SETL-1", "status": "cancelled", "payout": "4200.00"},
            {"mdtrt_id": "202506010001", "setl_id": "SETL-2", "status": "settled", "payout": "4200.00"},
        ],
    }
    run = client.post(f"{API}/reconciliations", json=daily, headers=a.his)
    assert run.status_code == 201, run.text
    assert (run.json()["status"], run.json()["our_total"], run.json()["their_total"]) == (
        "matched",
        "4200.00",
        "4200.00",
    )
    twice = client.post(f"{API}/reconciliations", json=daily, headers=a.his)
    assert twice.status_code == 200 and twice.headers["Idempotent-Replayed"] == "true"
    assert twice.json()["id"] == run.json()["id"]

    # FHIR R4 ClaimResponse of the settlement in force
    fhir = client.get(f"{API}/settlements/{again.json()['id']}/fhir", headers=a.staff)
    assert fhir.status_code == 200 and fhir.headers["content-type"].startswith("application/fhir+json")
    doc = ClaimResponse.model_validate(fhir.json())
    assert doc.outcome == "complete" and doc.payment is not None and float(doc.payment.amount.value) == 4200.0
    assert certno not in fhir.text

    # reports for the regulator; insurers see theirs; hospitals none
    rep = client.get(f"{API}/reports/payouts?by=insurer", headers=a.analyst).json()
    # One person paid: below k = 5, so the regulator sees neither the cell nor the totals (small-cell
    # suppression, docs/data-security.md); the insurer, who sees its claims anyway, gets its full report.
    assert (rep["rows"], rep["total_payout"], rep["total_count"]) == ([], None, None)
    assert (rep["k"], rep["suppressed_rows"], rep["totals_withheld"]) == (5, 1, True)
    assert client.get(f"{API}/reports/payouts?by=liability", headers=a.staff).json()["rows"] == [
        {"key": "outlist", "count": 1, "payout": "4200.00", "premium": None, "loss_ratio": None}
    ]
    conc = client.get(f"{API}/reports/concentration?top=5", headers=a.analyst).json()
    # The only hospital describes one person: below k, not listed; the answer says so.
    assert (conc["hospitals"], conc["top_share"], conc["hospital_count"]) == ([], "0.0000", 1)
    assert conc["disclosure"] == {
        "rule": "k_anonymity", "k": 5, "suppressed": 1, "generalised": {},
        "reason": "少于 k 个对象的组可识别个体 / a group of fewer than k could single someone out",
    }  # fmt: skip
    mine = client.get(f"{API}/reports/concentration?top=5", headers=a.staff).json()
    assert (mine["top_share"], len(mine["hospitals"]), mine["disclosure"]) == ("1.0000", 1, None)
    assert client.get(f"{API}/reports/payouts", headers=a.his).status_code == 403


def test_errors_are_problem_json(client: TestClient, session: Session) -> None:
    a = Actors(session, client)
    bad = client.post(f"{API}/products", json={"definition": {"code": "x"}}, headers=a.staff)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} >= {"name", "year", "liabilities"}
    r = client.post(f"{API}/settlements", json=request("M", "S", "110101199001011234"), headers=a.his)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "certno"
    r = client.post(f"{API}/settlements", json=request("M", "S", resident_id(seq=901)), headers=a.his)
    assert r.status_code == 422 and r.json()["code"] == "person_unknown"
    assert r.json()["errors"][0]["field"] == "certno"


class session_factory_of:
    """A fresh committed transaction on the same engine as the test's session."""

    def __init__(self, session: Session) -> None:
        self.factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)

    def __enter__(self) -> Session:
        self.s = self.factory()
        return self.s

    def __exit__(self, *exc: object) -> None:
        self.s.rollback()
        self.s.close()


def test_the_direct_settlement_route_answers_like_the_framework(client: TestClient, session: Session) -> None:
    """POST /claims/settlements is served by claim.fastroute, not FastAPI's routing: same problem documents,
    same authentication and permission answers, refusals audited, metrics labelled with the route."""
    a = Actors(session, client)
    url = f"{API}/settlements"
    missing = client.post(url, json={"certno": "x"}, headers=a.his)
    assert missing.status_code == 422 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {"msg_id", "setlinfo"} <= fields  # located like FastAPI's own: without the "body" prefix
    assert missing.json()["instance"] == url
    not_json = client.post(url, content=b"{not json", headers={**a.his, "content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["code"] == "invalid_input"
    anonymous = client.post(url, json=request("M-A", "S-A", resident_id(seq=5)))
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert client.post(url, json={}).status_code == 401  # credentials are checked before the body
    insurer = client.post(url, json=request("M-I", "S-I", resident_id(seq=5)), headers=a.staff)
    assert insurer.status_code == 403 and insurer.json()["code"] == "permission_denied"
    with session_factory_of(session).factory() as fresh:  # refusals are audited in a transaction of their own
        denied = fresh.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert any(url in e.subject_ids and '"route"' in (e.detail or "") for e in denied)
    metrics = client.get("/metrics").text
    assert f'route="{url}"' in metrics and 'status="403"' in metrics


def test_a_busy_hospital_key_is_rechecked_in_the_background(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key used once its entry's refresh is due is answered from the cache and re-checked off the request's
    path: renewed while it works, dropped once it no longer does (then refused, 401)."""
    from jinyu.party.models import ServiceAccount
    from jinyu.party.service import identity

    actors = Actors(session, client)
    party.forget_api_keys()
    now = [1000.0]
    monkeypatch.setattr(identity, "monotonic", lambda: now[0])
    key = actors.his["X-API-Key"]
    digest = identity.hash_api_secret(key)

    def settle_nothing() -> int:
        return client.post(f"{API}/settlements", json={}, headers=actors.his).status_code

    def entry_becomes(expected: Any) -> bool:
        for _ in range(100):  # the refresh runs on another thread
            if identity._key_cache.get(digest, (None,))[0] == expected:
                return True
            time.sleep(0.05)
        return False

    assert settle_nothing() == 422  # authenticated (checked in the database), then the body refused
    assert entry_becomes(1000.0)
    now[0] += identity.API_KEY_REFRESH_SECONDS[1] + 1
    assert settle_nothing() == 422  # served from the cache, refresh started
    assert entry_becomes(now[0])  # renewed
    account = session.scalars(select(ServiceAccount).where(ServiceAccount.org_id == actors.hospital.id)).one()
    account.active = False
    session.commit()
    now[0] += identity.API_KEY_REFRESH_SECONDS[1] + 1
    assert settle_nothing() == 422  # still within the entry's time: answered, and the key re-checked
    assert entry_becomes(None)  # dropped: the key no longer works
    assert settle_nothing() == 401
    party.forget_api_keys()
