"""The synthetic region's insured persons and inpatient visits: consistent settlement records that the
engine settles, deterministic per seed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from jinyu.claim import service
from jinyu.claim.schemas import EnrollmentIn, LedgerBookIn, LedgerEntryIn, ProductIn, SetlInfo, SettleIn
from jinyu.core.auth import OrgKind, Role
from jinyu.synth.calendar import Calendar
from jinyu.synth.claims import PRODUCT_CODE, build_claims
from jinyu.synth.generator import PARTS
from jinyu.synth.model import Region
from jinyu.synth.scales import get_scale
from tests.claim.factories import KEY, sample_definition
from tests.fixtures.auth import make_org, principal


@pytest.fixture(scope="module")
def region() -> Region:
    r = Region(get_scale("small"), 7, Calendar())
    for _, part in PARTS:
        part(r)
    return r


def test_every_visit_adds_up(region: Region) -> None:
    v = region.tables["claim_visits"]
    assert len(v["mdtrt_id"]) > 20 and len(set(v["mdtrt_id"])) == len(v["mdtrt_id"])
    insured = set(region.tables["claim_insured"]["person_id"])
    for i in range(len(v["mdtrt_id"])):
        parts = sum(
            v[c][i] for c in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
        )
        paid = sum(
            v[c][i] for c in ("hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "acct_pay", "psn_cash_pay")
        )
        assert v["medfee_sumamt"][i] == parts == paid and v["psn_cash_pay"][i] >= 0
        assert v["person_id"][i] in insured
        assert v["bmi_settled"][i] or v["hifp_pay"][i] == 0


def test_deterministic(region: Region) -> None:
    """Written as datasets by the generator (tests/synth/test_claims.py checks the files)."""
    again = Region(get_scale("small"), 7, Calendar())
    for _, part in PARTS:
        part(again)
    assert again.tables["claim_visits"] == region.tables["claim_visits"]
    assert again.tables["claim_insured"] == region.tables["claim_insured"]
    build_claims(again)  # a part only adds: running it again rebuilds the same tables
    assert again.tables["claim_visits"] == region.tables["claim_visits"]


def test_visits_settle_through_the_engine(region: Region, session: Session) -> None:
    insurer = make_org(session, OrgKind.INSURER)
    staff = principal(session, insurer, Role.INSURER_STAFF)
    definition = sample_definition(
        [insurer.code], code=PRODUCT_CODE, year=2024, period={"start": "2024-01-01", "end": "2024-12-31"}
    )
    service.create_product(session, staff, ProductIn(definition=definition, activate=True))
    v = region.tables["claim_visits"]
    hospitals: dict[str, object] = {}
    total = Decimal(0)
    enrolled: set[str] = set()
    for i in range(min(15, len(v["mdtrt_id"]))):
        code = v["hospital_code"][i]
        if code not in hospitals:
            org = make_org(session, OrgKind.HOSPITAL)
            book = service.create_book(session, staff, LedgerBookIn(hospital_id=org.id, product_year=2024))
            service.post_entry(session, staff, book.id, LedgerEntryIn(kind="deposit", amount=Decimal("5000000"),
                                                                      reference="pp"))  # fmt: skip
            hospitals[code] = principal(session, org, Role.HOSPITAL_SYSTEM)
        person = v["person_id"][i]
        if person not in enrolled:
            service.enroll(session, staff, EnrollmentIn(product_code=PRODUCT_CODE, certno=person), KEY)  # type: ignore[arg-type]
            enrolled.add(person)
        amounts = {
            c: Decimal(v[c][i]) / 100
            for c in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                      "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "acct_pay", "psn_cash_pay")
        }  # fmt: skip
        setl = SetlInfo(
            mdtrt_id=v["mdtrt_id"][i],
            setl_id=v["setl_id"][i],
            setl_time=dt.datetime.fromtimestamp(v["setl_time"][i], dt.UTC),
            dise_codg=v["dise_codg"][i],
            bmi_settled=v["bmi_settled"][i],
            **amounts,
        )
        out = service.settle(
            session,
            hospitals[code],
            SettleIn(msg_id=f"m{i}", certno=person, setlinfo=setl, auto_confirm=True),
            KEY,  # type: ignore[arg-type]
        ).settlement
        assert out.funds + out.acct_pay + out.payout + out.cash_after == out.medfee_sumamt
        total += out.payout
    assert total >= 0
