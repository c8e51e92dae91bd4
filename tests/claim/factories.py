"""Small factories for claim tests: a product definition, bills, and a ready region (insurer, hospital,
product, books, an enrolled person) on the test's session."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from jinyu.claim import service
from jinyu.claim.rules.adjudicate import Bill, BillLine
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import Product
from jinyu.claim.schemas import (
    EnrollmentIn,
    FeeLine,
    LedgerBookIn,
    LedgerEntryIn,
    ProductIn,
    SetlInfo,
    SettleIn,
)
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.party.schemas import OrgOut
from tests.fixtures.auth import make_org, principal, resident_id

SAMPLE = Path(__file__).resolve().parents[2] / "src/jinyu/claim/products/sample_chongqing_2025.yaml"
KEY = b"test-pseudonym-key-for-claims-0123456789"


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


def sample_definition(insurer_codes: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """The shipped sample, with its insurers replaced by the given codes (shares split evenly)."""
    data: dict[str, Any] = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    if insurer_codes is not None:
        share = (Decimal(1) / len(insurer_codes)).quantize(Decimal("0.0001"))
        rest = Decimal(1) - share * (len(insurer_codes) - 1)
        data["insurers"] = [
            {"org_code": code, "share": str(rest if n == 0 else share), "lead": n == 0}
            for n, code in enumerate(insurer_codes)
        ]
    for key, value in changes.items():
        data[key] = value
    return copy.deepcopy(data)


def sample_product(**changes: Any) -> Product:
    return parse_product(sample_definition(**changes))


def bill(**fields: Any) -> Bill:
    """A consistent bill: medfee is the sum of its four parts unless given."""
    names = ("med_type", "lines_complete", "hospital_id", "day", "pharmacy")
    other = {k: fields.pop(k) for k in names if k in fields}
    values = {k: D(v) for k, v in fields.items() if k not in ("lines", "diagnoses", "bmi_settled")}
    values.setdefault("fulamt_ownpay_amt", D(0))
    values.setdefault("overlmt_selfpay", D(0))
    values.setdefault("preselfpay_amt", D(0))
    values.setdefault("inscp_scp_amt", D(0))
    values.setdefault(
        "medfee_sumamt",
        values["fulamt_ownpay_amt"]
        + values["overlmt_selfpay"]
        + values["preselfpay_amt"]
        + values["inscp_scp_amt"],
    )
    return Bill(
        **values,
        bmi_settled=fields.get("bmi_settled", True),
        diagnoses=tuple(fields.get("diagnoses", ())),
        lines=tuple(fields.get("lines", ())),
        **other,
    )


def drug_line(
    sn: str,
    code: str,
    ownpay: str,
    pharmacy: str | None = None,
    *,
    diagnosis: str | None = None,
    special_drug: bool = False,
) -> BillLine:
    return BillLine(
        sn,
        code,
        code,
        D(ownpay),
        D(ownpay),
        pharmacy_code=pharmacy,
        diagnosis=diagnosis,
        special_drug=special_drug,
    )


FORMAT1 = Path(__file__).resolve().parent / "data" / "cq_ykb_2025_format1.yaml"


def format1_product() -> Product:
    """The sample as stored before product format 2 (format 1: its original semantics)."""
    return parse_product(yaml.safe_load(FORMAT1.read_text(encoding="utf-8")))


@dataclass
class World:
    insurer: OrgOut
    hospital: OrgOut
    insurer_staff: Principal
    his: Principal  # the hospital's system
    product_id: str
    product_code: str
    book_id: str
    certno: str


def world(
    session: Session,
    *,
    deposit: str = "1000000.00",
    mode: str = "prepaid",
    fallback: str = "arrears",
    threshold: str = "0",
    pre_existing: list[str] | None = None,
    certno: str | None = None,
    **changes: Any,
) -> World:
    insurer = make_org(session, OrgKind.INSURER)
    hospital = make_org(session, OrgKind.HOSPITAL)
    staff = principal(session, insurer, Role.INSURER_STAFF)
    his = principal(session, hospital, Role.HOSPITAL_SYSTEM)
    code = f"T-{insurer.code}"
    definition = sample_definition([insurer.code], code=code, **changes)
    product = service.create_product(session, staff, ProductIn(definition=definition, activate=True))
    book = service.create_book(
        session,
        staff,
        LedgerBookIn(
            hospital_id=hospital.id,
            product_year=product.year,
            mode=mode,  # type: ignore[arg-type]
            fallback=fallback,  # type: ignore[arg-type]
            low_balance_threshold=D(threshold),
        ),
    )
    if mode == "prepaid" and D(deposit) > 0:
        service.post_entry(
            session, staff, book.id, LedgerEntryIn(kind="deposit", amount=D(deposit), reference="initial")
        )
    person = certno or resident_id()
    service.enroll(
        session,
        staff,
        EnrollmentIn(product_code=code, certno=person, pre_existing=pre_existing or []),  # type: ignore[arg-type]
        KEY,
    )
    return World(insurer, hospital, staff, his, product.id, code, book.id, person)


def settle_in(
    w: World,
    msg_id: str,
    *,
    mdtrt_id: str = "MDTRT-1",
    setl_id: str = "SETL-1",
    setl_time: dt.datetime | None = None,
    lines: list[FeeLine] | None = None,
    auto_confirm: bool = False,
    certno: str | None = None,
    **amounts: Any,
) -> SettleIn:
    fields = {k: D(v) for k, v in amounts.items() if k not in ("diag_codes", "dise_codg", "bmi_settled")}
    parts = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    for p in parts:
        fields.setdefault(p, D(0))
    fields.setdefault("medfee_sumamt", sum((fields[p] for p in parts), D(0)))
    setlinfo = SetlInfo(
        mdtrt_id=mdtrt_id,
        setl_id=setl_id,
        setl_time=setl_time or dt.datetime(2025, 6, 1, 10, 30),
        dise_codg=amounts.get("dise_codg"),
        diag_codes=amounts.get("diag_codes", []),
        bmi_settled=amounts.get("bmi_settled", True),
        **fields,
    )
    return SettleIn(
        msg_id=msg_id,
        certno=certno or w.certno,  # type: ignore[arg-type]
        setlinfo=setlinfo,
        lines=lines or [],
        auto_confirm=auto_confirm,
    )
