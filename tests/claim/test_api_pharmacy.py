"""Pharmacies through the settlement API (rule 7 of product format 2), and the canonical form of requests
without the format-2 fields. Amounts hand-computed in the comments."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.claim.schemas import SettleIn
from jinyu.claim.service import common
from jinyu.claim.service.common import request_hash
from jinyu.claim.service.intake import claim_of
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.party import service as party
from jinyu.party.schemas import ServiceAccountCreate
from tests.claim import test_api_rules as rules
from tests.fixtures.auth import make_org, resident_id

# the rules tests' fixtures and region
API, Region = rules.API, rules.Region
session_factory, session, client = rules.session_factory, rules.session, rules.client


def test_a_pharmacy_settles_purchases_of_special_drugs_it_is_designated_for(
    client: TestClient,
    session: Session,
) -> None:
    pharmacy = make_org(session, OrgKind.PHARMACY)
    elsewhere = make_org(session, OrgKind.PHARMACY)
    keys = [
        party.create_service_account(
            session,
            SYSTEM,
            ServiceAccountCreate(name=f"POS {p.code}", org_id=p.id, roles=[Role.PHARMACY_SYSTEM]),
        ).api_key
        for p in (pharmacy, elsewhere)
    ]
    session.commit()
    w = Region(session, client)
    w.definition["liabilities"][2]["designated_pharmacies"] = [pharmacy.code]  # v2 names this pharmacy
    w.definition["version"] = 2
    assert (
        client.post(
            f"{API}/products", json={"definition": w.definition, "activate": True}, headers=w.staff
        ).status_code
        == 201
    )
    for p in (pharmacy, elsewhere):
        r = client.post(
            f"{API}/ledger/books", json={"hospital_id": p.id, "product_year": 2025}, headers=w.staff
        )
        assert r.status_code == 201, r.text
    certno = w.enroll(7)
    pos, other_pos = {"X-API-Key": str(keys[0])}, {"X-API-Key": str(keys[1])}
    line = {
        "feedetl_sn": "1",
        "med_list_codg": "L01FF02",
        "det_item_fee_sumamt": "17900.00",
        "fulamt_ownpay_amt": "17900.00",
        "dise_codg": "C34.1",
    }
    # the designated pharmacy dispensed it itself: 17,900 × 70 % = 12,530.00, no deductible
    r = w.settle("P1", certno, headers=pos, med_type="41", fulamt_ownpay_amt="17900.00", lines=[line])
    assert r.status_code == 201, r.text
    assert (r.json()["payout"], r.json()["hospital_id"], r.json()["med_type"]) == (
        "12530.00",
        pharmacy.id,
        "41",
    )
    # another pharmacy is not a designated channel: the line stays an out-of-list cost no pharmacy liability pays
    r = w.settle("P2", certno, headers=other_pos, med_type="41", fulamt_ownpay_amt="17900.00", lines=[line])
    assert (r.json()["payout"], [n["code"] for n in r.json()["outcome"]["not_paid"]]) == (
        "0.00",
        ["channel_not_designated"],
    )
    # a pharmacy settles purchases only, and sees its own settlements only
    r = w.settle("P3", certno, headers=pos, inscp_scp_amt="1000.00")
    assert r.status_code == 422 and "setlinfo.med_type" in {e["field"] for e in r.json()["errors"]}
    listed = client.get(f"{API}/settlements", headers=pos).json()
    assert [s["mdtrt_id"] for s in listed["items"]] == ["V-P1"]


def test_a_pharmacy_registered_after_the_product_counts_once_looked_up_again(
    client: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(common, "ORG_RETRY_SECONDS", 0.0)  # look again at every load (production: 60 s)
    w = Region(session, client)
    w.definition["liabilities"][2]["designated_pharmacies"] = ["PH-LATE"]  # not registered yet
    w.definition["version"] = 2
    assert (
        client.post(
            f"{API}/products", json={"definition": w.definition, "activate": True}, headers=w.staff
        ).status_code
        == 201
    )
    certno = w.enroll(8)
    line = {
        "feedetl_sn": "1",
        "med_list_codg": "L01FF02",
        "det_item_fee_sumamt": "1000.00",
        "fulamt_ownpay_amt": "1000.00",
        "pharmacy_code": "PH-LATE",
        "dise_codg": "C34.1",
    }
    # the line names the pharmacy by code: designated whether or not it is registered (1,000 × 70 % = 700.00)
    r = w.settle("LATE-1", certno, fulamt_ownpay_amt="1000.00", lines=[line], lines_complete=False)
    assert r.json()["payout"] == "700.00", r.text
    late = make_org(session, OrgKind.PHARMACY, code="PH-LATE")
    key = party.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name="POS late", org_id=late.id, roles=[Role.PHARMACY_SYSTEM])
    ).api_key
    session.commit()
    r = client.post(
        f"{API}/ledger/books", json={"hospital_id": late.id, "product_year": 2025}, headers=w.staff
    )
    assert r.status_code == 201, r.text
    own = {k: v for k, v in line.items() if k != "pharmacy_code"}  # dispensed by the settling pharmacy
    r = w.settle(
        "LATE-2",
        certno,
        headers={"X-API-Key": str(key)},
        med_type="41",
        fulamt_ownpay_amt="1000.00",
        lines=[own],
    )
    assert r.json()["payout"] == "700.00", r.text


def test_requests_without_the_new_fields_hash_as_before() -> None:
    """A message sent before format 2 replays (same canonical form, same hash) instead of answering 409."""
    data = SettleIn.model_validate(
        {
            "msg_id": "OLD-1",
            "certno": resident_id(seq=9),
            "setlinfo": {
                "mdtrt_id": "V",
                "setl_id": "S",
                "setl_time": "2025-06-01T10:30:00",
                "medfee_sumamt": "100.00",
                "fulamt_ownpay_amt": "100.00",
                "inscp_scp_amt": "0",
            },
            "lines": [
                {
                    "feedetl_sn": "1",
                    "med_list_codg": "X",
                    "det_item_fee_sumamt": "100.00",
                    "fulamt_ownpay_amt": "100.00",
                }
            ],
        }
    )
    claim = claim_of(data, namespace="h", hospital_id="h", channel="direct", msg_id="OLD-1", key=b"k" * 32)
    # the keys the canonical form had before format 2, and no others
    assert set(claim.doc) == {"product_code", "setlinfo", "lines"}
    assert set(claim.doc["setlinfo"]) == {
        "mdtrt_id", "setl_id", "setl_time", "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay",
        "preselfpay_amt", "inscp_scp_amt", "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay",
        "acct_pay", "psn_cash_pay", "bmi_settled", "dise_codg", "diag_codes",
    }  # fmt: skip
    assert set(claim.doc["lines"][0]) == {
        "feedetl_sn", "med_list_codg", "med_list_name", "det_item_fee_sumamt", "fulamt_ownpay_amt",
        "overlmt_amt", "preselfpay_amt", "inscp_scp_amt", "pharmacy_code",
    }  # fmt: skip
    assert claim.hash == request_hash({"person": claim.who.token, "hospital": "h", **claim.doc})
