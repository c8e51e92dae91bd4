"""A bill on its way in: its canonical form, the idempotency checks, coverage, and the stored row.

Shared by instant settlement (the hospital's call at discharge) and post-discharge claims (the insurer's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from jinyu.claim import repository as repo
from jinyu.claim.errors import (
    BillInvalid,
    EnrollmentAmbiguous,
    IdempotencyConflict,
    NotEnrolled,
    PersonUnknown,
    VisitAlreadySettled,
)
from jinyu.claim.models import ClaimEnrollment, ClaimProduct, ClaimSettlement
from jinyu.claim.rules.adjudicate import Bill, BillLine
from jinyu.claim.rules.product import DEFAULT_MED_TYPE
from jinyu.claim.schemas import (
    BillIn,
    SettlementOut,
    SettlementSince,
)
from jinyu.claim.service.common import (
    Person,
    business_date,
    person,
    request_hash,
    settlement_out,
    shanghai_time,
)
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import detached, new_id
from jinyu.core.errors import FieldError
from jinyu.core.money import to_fen
from jinyu.core.privacy import Keys, pseudonymize

ZERO_TEXT = "0.00"


@dataclass(frozen=True)
class Claim:
    """One bill on its way in: who sent it, about whom, and its canonical form for idempotency."""

    namespace: str  # message-id namespace: the hospital (direct) or the insurer (post-discharge)
    hospital_id: str
    channel: str
    msg_id: str
    who: Person
    product_code: str | None
    doc: dict[str, Any]  # the bill as received, minus the raw ID
    hash: str
    pharmacy: bool = False  # the settling organisation is a pharmacy (a purchase), not a hospital

    @property
    def mdtrt_id(self) -> str:
        return str(self.doc["setlinfo"]["mdtrt_id"])

    @property
    def setl_id(self) -> str:
        return str(self.doc["setlinfo"]["setl_id"])


def claim_of(
    data: BillIn,
    *,
    namespace: str,
    hospital_id: str,
    channel: str,
    msg_id: str,
    key: Keys,
    pharmacy: bool = False,
) -> Claim:
    who = person(data.certno.get_secret_value(), key)
    update: dict[str, Any] = {"setl_time": shanghai_time(data.setlinfo.setl_time)}
    if data.setlinfo.psn_no is not None:  # a person identifier: kept only as its keyed token
        update["psn_no"] = pseudonymize(key, data.setlinfo.psn_no, "psn_no")
    setlinfo = data.setlinfo.model_copy(update=update)
    doc: dict[str, Any] = {
        "product_code": data.product_code,
        "setlinfo": _fen_text(_without_unset(setlinfo.model_dump(), SETLINFO_V2)),
        "lines": [_fen_text(_without_unset(line.model_dump(), LINE_V2)) for line in data.lines],
    }
    if data.lines_complete is not None:
        doc["lines_complete"] = data.lines_complete
    digest = request_hash({"person": who.token, "hospital": hospital_id, **doc})
    return Claim(namespace, hospital_id, channel, msg_id, who, data.product_code, doc, digest, pharmacy)


# Fields added with product format 2: left out of the canonical form when not sent, so that a request made
# before they existed keeps its hash (its replay answers the stored result instead of 409).
SETLINFO_V2 = ("med_type", "insutype", "psn_no", "act_pay_dedc")
LINE_V2 = ("dise_codg", "special_drug")


def _without_unset(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not (k in keys and v is None)}


def _fen_text(values: dict[str, Any]) -> dict[str, Any]:
    """JSON form with every amount written to the fen, so that "0", "0.0" and "0.00" hash alike."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Decimal):
            out[k] = str(to_fen(v))
        elif isinstance(v, dt.datetime):
            out[k] = as_utc(v).isoformat()  # one instant, one text
        else:
            out[k] = v
    return out


def bill_of(doc: dict[str, Any], hospital_id: str | None = None, pharmacy: bool = False) -> Bill:
    """The rules' view of a canonical bill; `hospital_id`: the settling hospital or (`pharmacy`) pharmacy."""
    s = doc["setlinfo"]

    def d(name: str, source: dict[str, Any] = s) -> Decimal:
        value = source.get(name)
        return to_fen(Decimal(str(value))) if value is not None else Decimal(ZERO_TEXT)

    diagnoses = tuple(c for c in [s.get("dise_codg"), *s.get("diag_codes", [])] if c)
    lines = tuple(
        BillLine(
            sn=line["feedetl_sn"],
            code=line["med_list_codg"],
            name=line.get("med_list_name", ""),
            total=d("det_item_fee_sumamt", line),
            ownpay=d("fulamt_ownpay_amt", line),
            overlmt=d("overlmt_amt", line),
            preselfpay=d("preselfpay_amt", line),
            inscp=d("inscp_scp_amt", line),
            pharmacy_code=line.get("pharmacy_code"),
            diagnosis=line.get("dise_codg"),
            special_drug=bool(line.get("special_drug")),
        )
        for line in doc["lines"]
    )
    return Bill(
        medfee_sumamt=d("medfee_sumamt"),
        fulamt_ownpay_amt=d("fulamt_ownpay_amt"),
        overlmt_selfpay=d("overlmt_selfpay"),
        preselfpay_amt=d("preselfpay_amt"),
        inscp_scp_amt=d("inscp_scp_amt"),
        hifp_pay=d("hifp_pay"),
        hifmi_pay=d("hifmi_pay"),
        hifob_pay=d("hifob_pay"),
        maf_pay=d("maf_pay"),
        oth_pay=d("oth_pay"),
        acct_pay=d("acct_pay"),
        psn_cash_pay=to_fen(Decimal(str(s["psn_cash_pay"]))) if s.get("psn_cash_pay") is not None else None,
        bmi_settled=bool(s.get("bmi_settled", True)),
        diagnoses=diagnoses,
        lines=lines,
        med_type=str(s.get("med_type") or DEFAULT_MED_TYPE),
        insutype=str(s["insutype"]).strip() if s.get("insutype") else None,
        act_pay_dedc=d("act_pay_dedc"),
        lines_complete=bool(doc.get("lines_complete", True)),
        day=business_date(setl_time_of(doc)),
        hospital_id=hospital_id,
        pharmacy=pharmacy,
    )


def bill_invalid(problems: list[FieldError]) -> BillInvalid:
    """The bill's problems named by their place in the request (`setlinfo.medfee_sumamt`, `lines[2].…`)."""
    fields = [
        FieldError(p.field if p.field.startswith("lines") else f"setlinfo.{p.field}", p.message)
        for p in problems
    ]
    return BillInvalid(detail="; ".join(f"{f.field}: {f.message}" for f in fields), fields=fields)


def setl_time_of(doc: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(doc["setlinfo"]["setl_time"]))


# ------------------------------------------------------------------------------------------------ idempotency


def existing(
    session: Session, claim: Claim, operation: str, *, by_key: bool = True
) -> ClaimSettlement | None:
    """The settlement this request already made, if any; 409 when its id or key was used differently.

    `by_key=False` checks the message id only (the caller checks the business key under the row lock)."""
    msg = repo.message(session, claim.namespace, claim.msg_id)
    if msg is not None:
        return earlier(session, claim, operation, msg)
    if not by_key:
        return None
    key = repo.settlement_key(session, claim.hospital_id, claim.mdtrt_id, claim.setl_id, claim.channel)
    if key is None:
        return None
    if key.request_hash != claim.hash:
        raise key_conflict(claim)
    remember(session, claim, operation, key.id)
    return repo.get_settlement_unscoped(session, key.id)


def earlier(session: Session, claim: Claim, operation: str, msg: repo.Ref) -> ClaimSettlement | None:
    """The settlement an earlier use of this message id made; 409 when it was used for another request."""
    if msg.operation != operation or msg.request_hash != claim.hash:
        raise message_conflict(claim.msg_id)
    return repo.get_settlement_unscoped(session, msg.id)


def message_conflict(msg_id: str) -> IdempotencyConflict:
    message = "报文号已用于不同的请求 / message id already used for a different request"
    return IdempotencyConflict(detail=f"msg_id {msg_id}", fields=[FieldError("msg_id", message)])


def key_conflict(claim: Claim) -> IdempotencyConflict:
    message = "该结算号已以不同内容结算 / this setl_id was settled with other content"
    return IdempotencyConflict(
        detail=f"mdtrt_id {claim.mdtrt_id} / setl_id {claim.setl_id}",
        fields=[FieldError("setlinfo.setl_id", message)],
    )


def visit_taken(claim: Claim, active: repo.Active) -> VisitAlreadySettled:
    """409 naming the visit's settlement in force (a re-settlement must wait for its cancellation)."""
    message = (
        f"就诊 {claim.mdtrt_id} 已有{active.status}结算 {active.setl_id}（{active.id}），须先撤销 / visit "
        f"{claim.mdtrt_id} already has a {active.status} settlement (setl_id {active.setl_id}, id {active.id}): "
        "cancel it before settling the visit again"
    )
    return VisitAlreadySettled(
        detail=message,
        fields=[FieldError("setlinfo.mdtrt_id", message)],
        extra={
            "existing": {
                "id": active.id,
                "setl_id": active.setl_id,
                "status": active.status,
                "channel": active.channel,
            }
        },
    )


def check_visit(claim: Claim, active: repo.Active | None, interim: bool) -> None:
    """Refuse a second settlement in force of the visit (unless the product allows interim settlements)."""
    if active is not None and not interim:
        raise visit_taken(claim, active)


def original_answer(row: ClaimSettlement) -> SettlementOut:
    """A replay's answer: the first answer again and, when the settlement's state changed since (cancelled,
    voided, confirmed, transferred), `since` saying so."""
    out = settlement_out(row)
    if row.status in ("deferred", "transferred"):
        first = "deferred"
    elif row.confirmed_at is not None and row.confirmed_at == row.created_at:
        first = "settled"  # confirmed in the same step (auto_confirm, or a post-discharge claim)
    else:
        first = "pending"
    if first == row.status:
        return out
    note = ""
    if first == "deferred" and out.outcome is not None and out.outcome.not_paid:
        note = out.outcome.not_paid[0].message
    since = SettlementSince(status=row.status, at=row.closed_at or row.confirmed_at, note=row.note)
    return out.model_copy(
        update={
            "status": first,
            "note": note,
            "confirmed_at": row.confirmed_at if first == "settled" else None,
            "closed_at": None,
            "since": since,
        }
    )


def remember(session: Session, claim: Claim, operation: str, settlement_id: str) -> None:
    repo.add_message(
        session,
        {
            "id": new_id(),
            "hospital_id": claim.namespace,
            "msg_id": claim.msg_id,
            "operation": operation,
            "request_hash": claim.hash,
            "settlement_id": settlement_id,
            "created_at": utcnow(),
        },
    )


def coverage(
    session: Session, claim: Claim, day: dt.date, insurer_id: str | None = None
) -> tuple[ClaimEnrollment, ClaimProduct]:
    found = repo.coverage_on(session, claim.who.token, day, claim.product_code)
    if insurer_id is not None:
        found = [(e, p) for e, p in found if repo.insurer_in_product_code(session, insurer_id, p.code)]
    return only_coverage(session, claim, day, found)


def only_coverage(
    session: Session, claim: Claim, day: dt.date, found: list[tuple[ClaimEnrollment, ClaimProduct]]
) -> tuple[ClaimEnrollment, ClaimProduct]:
    """The one enrollment covering the bill; refused when there is none (a person the platform does not know
    at all, or a known one not insured that day) or more than one."""
    if not found:
        if not repo.person_known(session, claim.who.token):
            message = "平台无此人员（从未参保任何产品）/ no person with this ID was ever enrolled"
            raise PersonUnknown(detail=claim.who.masked, fields=[FieldError("certno", message)])
        product = claim.product_code or "*"
        message = (
            f"该人员 {day} 无有效参保（产品 {product}）/ the person has no enrollment in force on {day} "
            f"(product {product})"
        )
        raise NotEnrolled(detail=f"{claim.who.masked} @ {day}", fields=[FieldError("certno", message)])
    if len(found) > 1:
        codes = ", ".join(sorted(p.code for _, p in found))
        message = f"参保多个产品，须指定其一 / insured under several products, name one of: {codes}"
        raise EnrollmentAmbiguous(detail=codes, fields=[FieldError("product_code", message)])
    return found[0]


def inactive(status: str) -> NotEnrolled:
    message = f"参保状态为 {status} / the enrollment is {status}"
    return NotEnrolled(detail=message, fields=[FieldError("certno", message)])


def new_row(
    claim: Claim,
    bill: Bill,
    enrollment: ClaimEnrollment,
    product: ClaimProduct,
    *,
    status: str,
    **values: Any,
) -> ClaimSettlement:
    """A settlement row (in no session) for this bill; `values` set columns beyond the bill's (the outcome's),
    with the row made rather than through the instrumented attributes after."""
    setl_time = setl_time_of(claim.doc)
    row = detached(  # the constructor's change events cost more than the row's own work here
        ClaimSettlement,
        id=new_id(),
        channel=claim.channel,
        status=status,
        hospital_id=claim.hospital_id,
        product_id=product.id,
        product_code=product.code,
        product_version=product.version,
        policy_year=enrollment.policy_year,
        enrollment_id=enrollment.id,
        person_token=claim.who.token,
        id_masked=claim.who.masked,
        mdtrt_id=claim.mdtrt_id,
        setl_id=claim.setl_id,
        interim=False,
        msg_id=claim.msg_id,
        request_hash=claim.hash,
        setl_time=setl_time,
        business_date=bill.day if bill.day is not None else business_date(setl_time),
        medfee_sumamt=bill.medfee_sumamt,
        med_type=bill.med_type,
        insutype=claim.doc["setlinfo"].get("insutype"),
        psn_token=claim.doc["setlinfo"].get("psn_no"),
        act_pay_dedc=bill.act_pay_dedc,
        funds=bill.funds,
        acct_pay=bill.acct_pay,
        cash_before=bill.cash_before,
        payout=Decimal(ZERO_TEXT),
        cash_after=bill.cash_before,
        bill=claim.doc,
        result={},
        funding={},
        note="",
        created_at=utcnow(),
    )
    row.__dict__.update(values)
    return row
