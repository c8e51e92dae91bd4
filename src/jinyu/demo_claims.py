"""The demo's instant-settlement set-up: what a hospital system needs to try a discharge at once.

The shipped sample product (渝快保 2025, co-insured by I0001 and I0002) is loaded and activated, prepaid books
are opened and funded for the demo hospital, a few synthetic residents are enrolled (one with a pre-existing
condition) among the product year's synthetic population (`POPULATION` residents in all, at the product's
premium of 69 yuan: the premium the claims report's loss ratio divides by), and discharge requests in the
national settlement-record layout are written to <data dir>/claims/ — one under the deductible, one crossing
it, one large stay, a special drug bought at a designated pharmacy (med_type 41) and an outpatient visit
(med_type 11) — for the hospital to send.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr
from sqlalchemy.orm import Session

from jinyu.claim import service as claim
from jinyu.claim.schemas import EnrollmentIn, LedgerBookIn, LedgerEntryIn, ProductIn
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.core.ids import ric_check_digit
from jinyu.core.privacy import Keys
from jinyu.demo_hospital import LEAD_DEPOSIT, LEAD_THRESHOLD, WEEK
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut

SAMPLE = Path(__file__).resolve().parent / "claim" / "products" / "sample_chongqing_2025.yaml"
DEPOSIT = Decimal("2000000.00")
# Residents enrolled in all. A city product such as this one enrolls a large share of the city; the demo enrolls
# enough for its hospital's week (382,900.00 paid, `demo_hospital.WEEK`) to read as a believable loss ratio
# against the year's premium: 382,900.00 / (11,000 × 69.00 = 759,000.00) = 50.45 %, and 58.85 % once the visitor
# has sent the five requests below (0 + 4,480 + 46,800 + 12,530 + 0 = 63,810.00 more). With only the named
# residents (23 × 69.00 = 1,587.00) it read 24,127 %: true to the data, but no product runs so.
POPULATION = 11_000
PERSONS = 8  # the sample requests' residents (and three more for the visitor's own tries)
# (visit, in-list cost after BMI's share, out-of-list cost, diagnosis): a small stay under the 20,000 yuan
# deductible, one that crosses it, and a large one (the third person has a pre-existing condition).
STAYS = (
    ("small", Decimal("9800.00"), Decimal("1200.00"), "J18.9"),
    ("crossing", Decimal("46000.00"), Decimal("8000.00"), "K35.8"),
    ("large", Decimal("310000.00"), Decimal("52000.00"), "C34.9"),
)


def prepare_claims(session: Session, key: Keys, hospital: OrgOut, out: Path) -> list[Path]:
    """Product, funded books, enrollments and request files; returns the files written."""
    definition = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    insurers = [_org(session, OrgKind.INSURER, i["org_code"]) for i in definition["insurers"]]
    lead = acting(insurers[0], Role.INSURER_STAFF)
    claim.create_product(session, lead, ProductIn(definition=definition, activate=True))
    for n, insurer in enumerate(insurers):
        # the lead insurer funds less, with an alert line its week of payouts crosses (`demo_hospital`)
        deposit, line = (LEAD_DEPOSIT, LEAD_THRESHOLD) if n == 0 else (DEPOSIT, Decimal("0"))
        staff = acting(insurer, Role.INSURER_STAFF)
        book = claim.create_book(
            session,
            staff,
            LedgerBookIn(hospital_id=hospital.id, product_year=2025, low_balance_threshold=line),
        )
        entry = LedgerEntryIn(kind="deposit", amount=deposit, reference="demo-deposit")
        claim.post_entry(session, staff, book.id, entry)
    certnos = [_resident_id(n) for n in range(PERSONS)]
    for n, certno in enumerate(certnos + week_residents()):
        pre_existing = ["C34"] if n == 2 else []
        data = EnrollmentIn(
            product_code=definition["code"], certno=SecretStr(certno), pre_existing=pre_existing
        )
        claim.enroll(session, lead, data, key)
    claim.enroll_many(
        session, lead, definition["code"], population_ids(POPULATION - PERSONS - len(WEEK)), key
    )
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for n, stay in enumerate(STAYS):
        path = out / f"discharge-{n + 1}-{stay[0]}.json"
        path.write_text(json.dumps(_request(certnos[n], n, *stay[1:]), ensure_ascii=False, indent=2) + "\n")
        files.append(path)
    for n, (name, request) in enumerate(_other_visits(certnos), start=len(STAYS)):
        path = out / f"visit-{n + 1}-{name}.json"
        path.write_text(json.dumps(request, ensure_ascii=False, indent=2) + "\n")
        files.append(path)
    return files


def _other_visits(certnos: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """A pharmacy purchase of a special drug (paid 70 %, no deductible: 17,900 → 12,530.00) and an outpatient
    visit (the inpatient liabilities do not apply: payout 0, the deductible untouched)."""
    pharmacy = _request(certnos[3], 3, Decimal("0.00"), Decimal("17900.00"), "C34.1")
    pharmacy["setlinfo"]["med_type"] = "41"
    pharmacy["lines"] = [
        {
            "feedetl_sn": "1",
            "med_list_codg": "L01FF02",
            "med_list_name": "帕博利珠单抗注射液",
            "det_item_fee_sumamt": "17900.00",
            "fulamt_ownpay_amt": "17900.00",
            "pharmacy_code": "PH0001",
            "dise_codg": "C34.1",
        }
    ]
    outpatient = _request(certnos[4], 4, Decimal("600.00"), Decimal("200.00"), "J06.9")
    outpatient["setlinfo"]["med_type"] = "11"
    return [("pharmacy", pharmacy), ("outpatient", outpatient)]


def _request(certno: str, n: int, inscp: Decimal, ownpay: Decimal, diagnosis: str) -> dict[str, Any]:
    """A discharge as the hospital's system sends it: BMI has paid 60 % of the in-list part already."""
    hifp = (inscp * Decimal("0.6")).quantize(Decimal("0.01"))
    at = dt.datetime(2025, 6, 10 + n, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return {
        "msg_id": f"DEMO-{n + 1:04d}",
        "certno": certno,
        "auto_confirm": True,
        "setlinfo": {
            "mdtrt_id": f"DEMO-V{n + 1:06d}",
            "setl_id": f"DEMO-S{n + 1:06d}",
            "setl_time": at.isoformat(),
            "medfee_sumamt": str(inscp + ownpay),
            "fulamt_ownpay_amt": str(ownpay),
            "inscp_scp_amt": str(inscp),
            "hifp_pay": str(hifp),
            "dise_codg": diagnosis,
        },
    }


def week_residents() -> list[str]:
    """The residents of the hospital's settled week (`demo_hospital.WEEK`), one stay each."""
    return [_resident_id(n) for n in range(PERSONS, PERSONS + len(WEEK))]


def population_ids(count: int) -> list[str]:
    """`count` distinct valid synthetic resident IDs of six districts other than the named residents' (born
    1945-2005, one birth date each)."""
    districts = ("500103", "500105", "500106", "500107", "500108", "500113")
    first = dt.date(1945, 1, 1)
    out = []
    for n in range(count):
        born = first + dt.timedelta(days=n * 2)
        body = f"{districts[n % len(districts)]}{born:%Y%m%d}{100 + n % 800:03d}"
        out.append(body + ric_check_digit(body))
    return out


def _resident_id(n: int) -> str:
    """A valid synthetic resident ID (Yubei district, born 1960–2004)."""
    body = f"500112{1960 + n * 3 % 45:04d}{1 + n % 12:02d}{10 + n % 18:02d}{317 + n:03d}"
    return body + ric_check_digit(body)


def _org(session: Session, kind: OrgKind, code: str) -> OrgOut:
    found = party.list_orgs(session, SYSTEM, kind.value, code, 1, 0).items
    if not found:
        raise RuntimeError(f"synthetic region has no {kind.value} {code}")
    return found[0]


def acting(org: OrgOut, role: Role) -> Principal:
    """The organisation's own staff, as the demo set-up acts on its behalf (top-level organisations only)."""
    return Principal(
        subject_id=f"demo:{org.code}",
        username=f"demo@{org.code}",
        org_id=org.id,
        org_kind=OrgKind(org.kind),
        tenant_id=org.tenant_id,
        org_path=f"/{org.id}/",
        roles=frozenset({role}),
    )
