"""The rules of product format 2 through the settlement API, one test per rule, on committed data. Amounts are
hand-computed in the comments (the sample: annual deductible 20,000 shared by in-list and out-of-list costs,
70 % / 30 % pre-existing / 35 % not settled through BMI / 15 % both; special drugs 70 % without deductible,
their own 1,000,000 cap outside the overall cap)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.claim.models import ClaimSettlement
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
    with TestClient(create_app(settings, factory=session_factory), raise_server_exceptions=True) as c:
        yield c


class Region:
    """An insurer with the sample product (changed as the test needs), two hospitals with funded books, and
    enrolled persons."""

    def __init__(self, session: Session, client: TestClient, **changes: Any) -> None:
        self.client = client
        self.insurer = make_org(session, OrgKind.INSURER)
        self.hospital = make_org(session, OrgKind.HOSPITAL)
        self.other = make_org(session, OrgKind.HOSPITAL)
        staff = make_user(session, self.insurer, Role.INSURER_STAFF)
        keys = [
            party.create_service_account(
                session,
                SYSTEM,
                ServiceAccountCreate(name=f"HIS {h.code}", org_id=h.id, roles=[Role.HOSPITAL_SYSTEM]),
            ).api_key
            for h in (self.hospital, self.other)
        ]
        session.commit()
        self.staff = login(client, staff.username)
        self.his = {"X-API-Key": str(keys[0])}
        self.other_his = {"X-API-Key": str(keys[1])}
        definition = sample_definition([self.insurer.code], code="CQ-RULES", **changes)
        self.definition = definition
        r = client.post(
            f"{API}/products", json={"definition": definition, "activate": True}, headers=self.staff
        )
        assert r.status_code == 201, r.text
        for h in (self.hospital, self.other):
            r = client.post(
                f"{API}/ledger/books", json={"hospital_id": h.id, "product_year": 2025}, headers=self.staff
            )
            assert r.status_code == 201, r.text
            entry = {"kind": "deposit", "amount": "5000000.00", "reference": "PP-1"}
            assert (
                client.post(
                    f"{API}/ledger/books/{r.json()['id']}/entries", json=entry, headers=self.staff
                ).status_code
                == 201
            )

    def enroll(self, seq: int, pre_existing: list[str] | None = None) -> str:
        certno = resident_id(seq=seq)
        body = {"product_code": "CQ-RULES", "certno": certno, "pre_existing": pre_existing or []}
        r = self.client.post(f"{API}/enrollments", json=body, headers=self.staff)
        assert r.status_code == 201, r.text
        return certno

    def settle(self, msg: str, certno: str, *, headers: dict[str, str] | None = None, **setlinfo: Any) -> Any:
        lines = setlinfo.pop("lines", [])
        extra = {"lines_complete": setlinfo.pop("lines_complete")} if "lines_complete" in setlinfo else {}
        info = {"mdtrt_id": f"V-{msg}", "setl_id": f"S-{msg}", "setl_time": "2025-06-01T10:30:00", **setlinfo}
        for part in ("fulamt_ownpay_amt", "inscp_scp_amt"):
            info.setdefault(part, "0")
        info.setdefault(
            "medfee_sumamt", str(sum(float(info[p]) for p in ("fulamt_ownpay_amt", "inscp_scp_amt")))
        )
        body = {
            "msg_id": msg,
            "certno": certno,
            "auto_confirm": True,
            "setlinfo": info,
            "lines": lines,
            **extra,
        }
        return self.client.post(f"{API}/settlements", json=body, headers=headers or self.his)

    def accumulators(self, certno: str, on: str) -> dict[str, Any]:
        r = self.client.post(f"{API}/eligibility", json={"certno": certno, "on": on}, headers=self.his)
        assert r.status_code == 200, r.text
        [found] = r.json()
        acc: dict[str, Any] = found["accumulators"]
        acc["policy_year"] = found["policy_year"]
        return acc


def paid(body: dict[str, Any]) -> dict[str, str]:
    return {li["code"]: li["payout"] for li in body["outcome"]["liabilities"]}


def test_visit_type_outpatient_and_pharmacy_bills_leave_the_inpatient_deductible_alone(
    client: TestClient, session: Session
) -> None:
    w = Region(session, client)
    certno = w.enroll(1)
    # outpatient (11): 3,000 in-list (BMI 1,800) + 500 out-of-list; the inpatient liabilities do not apply
    out = w.settle(
        "O1",
        certno,
        med_type="11",
        insutype="390",
        psn_no="50000012345678",
        act_pay_dedc="200.00",
        inscp_scp_amt="3000.00",
        fulamt_ownpay_amt="500.00",
        hifp_pay="1800.00",
    )
    assert out.status_code == 201, out.text
    assert (out.json()["payout"], paid(out.json())) == ("0.00", {"special_drug": "0.00"})
    assert (out.json()["med_type"], out.json()["insutype"], out.json()["act_pay_dedc"]) == (
        "11",
        "390",
        "200.00",
    )
    assert w.accumulators(certno, "2025-06-02")["deductibles"][0]["used"] == "0.00"
    # the NHSA person number is kept only as a keyed token
    with session.get_bind().connect() as conn:
        row = conn.execute(select(ClaimSettlement.psn_token, ClaimSettlement.bill)).one()
    assert row.psn_token and row.psn_token != "50000012345678" and "50000012345678" not in str(row.bill)
    # then an inpatient stay (no med_type: 21): in-list 40,000 − 24,000 = 16,000 and out-of-list 10,000 against
    # the whole 20,000 deductible → (26,000 − 20,000) × 70 % = 4,200.00
    inp = w.settle("I1", certno, inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00")
    assert (inp.json()["payout"], inp.json()["med_type"]) == ("4200.00", "21")


def test_special_drugs_are_outside_the_overall_cap(client: TestClient, session: Session) -> None:
    w = Region(session, client, overall_cap="1000.00")
    certno = w.enroll(2)
    line = {
        "feedetl_sn": "1",
        "med_list_codg": "L01FF02",
        "det_item_fee_sumamt": "30000.00",
        "fulamt_ownpay_amt": "30000.00",
        "dise_codg": "C34.1",
    }
    # in-list 50,000 − 30,000 = 20,000 takes the whole deductible; the drug 30,000 × 70 % = 21,000 is paid in
    # full although the overall cap is 1,000, and does not count toward it
    r = w.settle(
        "D1",
        certno,
        inscp_scp_amt="50000.00",
        hifp_pay="30000.00",
        fulamt_ownpay_amt="30000.00",
        lines=[line],
        lines_complete=False,
        dise_codg="C34.1",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["payout"], paid(r.json())["special_drug"]) == ("21000.00", "21000.00")
    acc = w.accumulators(certno, "2025-06-02")
    assert (acc["overall"]["paid"], acc["liabilities"][2]["paid"]) == ("0.00", "21000.00")


def test_ratio_table_pre_existing_and_not_settled_through_bmi(client: TestClient, session: Session) -> None:
    w = Region(session, client)
    certno = w.enroll(3, pre_existing=["C34"])
    # not settled through BMI, pre-existing lung cancer: (30,000 − 20,000) × 15 % = 1,500.00 (not min 30 %)
    r = w.settle("R1", certno, inscp_scp_amt="30000.00", bmi_settled=False, dise_codg="C34.1")
    assert r.status_code == 201, r.text
    [inlist, *_] = r.json()["outcome"]["liabilities"]
    assert (inlist["ratio_kind"], inlist["ratio"], r.json()["payout"]) == (
        "pre_existing_non_bmi",
        "0.15",
        "1500.00",
    )


def test_special_drug_carve_out_reasons_per_line_and_designated_hospital(
    client: TestClient, session: Session
) -> None:
    w = Region(session, client)
    car_t = w.definition["liabilities"][2]["drugs"][4]
    assert car_t["code"] == "L01XL03"
    car_t["hospitals"] = [w.hospital.code]  # a new version naming this region's hospital for CAR-T
    w.definition["version"] = 2
    r = client.post(f"{API}/products", json={"definition": w.definition, "activate": True}, headers=w.staff)
    assert r.status_code == 201, r.text
    certno = w.enroll(4)

    def line(sn: str, code: str, amount: str, **more: Any) -> dict[str, Any]:
        return {
            "feedetl_sn": sn,
            "med_list_codg": code,
            "det_item_fee_sumamt": amount,
            "fulamt_ownpay_amt": amount,
            **more,
        }

    lines = [
        line("1", "L01XL03", "1200000.00", dise_codg="C85.1"),  # CAR-T at the named hospital: accepted
        line(
            "2", "L01FD01", "20000.00", dise_codg="C34.1"
        ),  # trastuzumab for lung cancer: not its indication
        line("3", "XNOTLISTED", "5000.00", special_drug=True),  # asked as a special drug, not listed
        line("4", "L01FF02", "10000.00", pharmacy_code="PH9999", dise_codg="C34.1"),  # undesignated pharmacy
    ]
    r = w.settle("C1", certno, fulamt_ownpay_amt="1235000.00", lines=lines, dise_codg="C85.1")
    assert r.status_code == 201, r.text
    body = r.json()
    # special drug: 1,200,000 × 70 % = 840,000. Out-of-list: 1,235,000 − 1,200,000 = 35,000 (the refused lines
    # stay) − 20,000 deductible = 15,000 × 70 % = 10,500.00
    assert paid(body) == {"inlist": "0.00", "outlist": "10500.00", "special_drug": "840000.00"}
    assert [(n["code"], n["line_sn"], n["amount"]) for n in body["outcome"]["not_paid"]] == [
        ("drug_outside_indication", "2", "20000.00"),
        ("drug_not_listed", "3", "5000.00"),
        ("channel_not_designated", "4", "10000.00"),
    ]
    # the same CAR-T line from the other hospital: not a designated channel, so an out-of-list cost
    # (deductible used up): 1,200,000 × 70 % = 840,000 under out-of-list, capped at 1,000,000 − 10,500
    other = w.settle(
        "C2", certno, headers=w.other_his, fulamt_ownpay_amt="1200000.00", lines=lines[:1], dise_codg="C85.1"
    )
    assert other.status_code == 201, other.text
    assert [(n["code"], n["line_sn"]) for n in other.json()["outcome"]["not_paid"]] == [
        ("channel_not_designated", "1")
    ]
    assert paid(other.json())["outlist"] == "840000.00"


def test_policy_years_keep_their_own_counters(client: TestClient, session: Session) -> None:
    w = Region(session, client, period={"start": "2025-07-01", "end": "2027-06-30"})
    certno = w.enroll(5)
    # each year: in-list 25,000 − BMI 10,000 = 15,000, all of it deductible (payout 0)
    for msg, day in (("Y1", "2025-08-01T09:00:00"), ("Y2", "2026-08-01T09:00:00")):
        r = w.settle(msg, certno, setl_time=day, inscp_scp_amt="25000.00", hifp_pay="10000.00")
        assert (r.status_code, r.json()["payout"]) == (201, "0.00"), r.text
    assert r.json()["policy_year"] == 2026
    y2025, y2026 = w.accumulators(certno, "2026-06-30"), w.accumulators(certno, "2026-07-01")
    assert (y2025["policy_year"], y2025["deductibles"][0]["used"]) == (2025, "15000.00")
    assert (y2026["policy_year"], y2026["deductibles"][0]["used"]) == (2026, "15000.00")
    # 2026 again: 5,000 of its deductible left → (15,000 − 5,000) × 70 % = 7,000.00
    r = w.settle("Y3", certno, setl_time="2026-09-01T09:00:00", inscp_scp_amt="25000.00", hifp_pay="10000.00")
    assert r.json()["payout"] == "7000.00"
    # cancelling it gives back the 2026 counters only
    sid = r.json()["id"]
    c = client.post(
        f"{API}/settlements/{sid}/cancel", json={"msg_id": "Y3-C", "reason": "撤销"}, headers=w.his
    )
    assert c.status_code == 200, c.text
    assert w.accumulators(certno, "2026-09-02")["deductibles"][0]["used"] == "15000.00"
    assert w.accumulators(certno, "2025-09-02")["deductibles"][0]["used"] == "15000.00"


def test_itemised_lines_optional_partial_or_adding_up(client: TestClient, session: Session) -> None:
    w = Region(session, client)
    certno = w.enroll(6)
    drug = {
        "feedetl_sn": "1",
        "med_list_codg": "L01FF02",
        "det_item_fee_sumamt": "3000.00",
        "fulamt_ownpay_amt": "3000.00",
        "dise_codg": "C34.1",
    }
    # no lines: the totals alone; some lines: within the totals (3,000 × 70 % = 2,100.00 without deductible)
    assert w.settle("L1", certno, fulamt_ownpay_amt="500.00").status_code == 201
    partial = w.settle("L2", certno, fulamt_ownpay_amt="5000.00", lines=[drug], lines_complete=False)
    assert (partial.status_code, paid(partial.json())["special_drug"]) == (201, "2100.00")
    # lines said to be complete must add up, named by field
    bad = w.settle("L3", certno, fulamt_ownpay_amt="5000.00", lines=[drug])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {"setlinfo.medfee_sumamt", "setlinfo.fulamt_ownpay_amt"} <= {
        e["field"] for e in bad.json()["errors"]
    }
