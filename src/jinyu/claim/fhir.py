"""A settlement as a FHIR R4 `ClaimResponse`, validated with fhir.resources.

fhir.resources 8 ships R5 and R4B (4.3.0) models; ClaimResponse is unchanged between R4 (4.0.1) and R4B, so
the R4B model validates R4 ClaimResponse documents. One `item` per liability (adjudications: submitted,
deductible, eligpercent, benefit), totals (submitted, benefit, and the patient's remaining cash), the payment
when settled, and every reason for an unpaid amount as a process note. The person appears only by keyed
token and masked ID.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir.resources.R4B.claimresponse import ClaimResponse

from jinyu.claim.schemas import SettlementOut

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
JINYU = "urn:jinyu"
CURRENCY = "CNY"

_STATUS = {"cancelled": "cancelled", "voided": "cancelled"}
_OUTCOME = {"pending": "queued", "settled": "complete", "cancelled": "complete", "voided": "complete"}


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": CURRENCY}


def _category(code: str, system: str = ADJUDICATION, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _org(org_id: str) -> dict[str, Any]:
    return {"identifier": {"system": f"{JINYU}:org", "value": org_id}}


def claim_response(s: SettlementOut, insurer_id: str, person_token: str) -> dict[str, Any]:
    """The FHIR JSON of one settlement; raises pydantic.ValidationError if it were not valid R4 FHIR."""
    outcome = s.outcome
    notes: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for n, li in enumerate(outcome.liabilities if outcome else [], start=1):
        reasons = "; ".join(f"{r.message} {r.amount}" for r in li.reasons)
        notes.append(
            {
                "number": n,
                "type": "display",
                "text": f"{li.name} [{li.code}]" + (f": {reasons}" if reasons else ""),
            }
        )
        adjudication = [
            {"category": _category("submitted"), "amount": _money(li.basis)},
            {"category": _category("deductible"), "amount": _money(li.deductible_applied)},
            {"category": _category("eligpercent"), "value": li.ratio * 100},
            {"category": _category("benefit"), "amount": _money(li.payout)},
        ]
        if li.payout < li.computed:
            adjudication.append(
                {
                    "category": _category(
                        f"{li.code}:limited", f"{JINYU}:adjudication", "限额或现金份额 / capped"
                    ),
                    "reason": {"text": reasons},
                    "amount": _money(li.computed - li.payout),
                }
            )
        items.append({"itemSequence": n, "noteNumber": [n], "adjudication": adjudication})
    offset = len(notes)
    for n, r in enumerate(outcome.not_paid if outcome else [], start=offset + 1):
        line = f" (line {r.line_sn})" if r.line_sn else ""
        notes.append({"number": n, "type": "display", "text": f"{r.message} {r.amount}{line}"})
    if s.note:
        notes.append({"number": len(notes) + 1, "type": "display", "text": s.note})
    doc: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": s.id,
        "identifier": [
            {"system": f"{JINYU}:claim-settlement", "value": s.id},
            {"system": "urn:nhsa:mdtrt_id", "value": s.mdtrt_id},
            {"system": "urn:nhsa:setl_id", "value": s.setl_id},
        ],
        "status": _STATUS.get(s.status, "active"),
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
        "use": "claim",
        "patient": {
            "identifier": {"system": f"{JINYU}:person-token", "value": person_token},
            "display": s.id_masked,
        },
        "created": s.created_at.isoformat(),
        "insurer": _org(insurer_id),
        "requestor": _org(s.hospital_id),
        "outcome": _OUTCOME.get(s.status, "partial"),
        "disposition": _disposition(s),
        "item": items or None,
        "total": [
            {"category": _category("submitted"), "amount": _money(s.medfee_sumamt)},
            {"category": _category("benefit"), "amount": _money(s.payout)},
            {
                "category": _category(
                    "patient-cash", f"{JINYU}:adjudication", "个人现金 / patient's cash share"
                ),
                "amount": _money(s.cash_after),
            },
        ],
        "processNote": notes or None,
    }
    if s.status == "settled":
        doc["payment"] = {
            "type": {"coding": [{"system": PAYMENT_TYPE, "code": "complete"}]},
            "date": (s.confirmed_at or s.created_at).date().isoformat(),
            "amount": _money(s.payout),
        }
    model = ClaimResponse.model_validate({k: v for k, v in doc.items() if v is not None})
    out: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return out


def _disposition(s: SettlementOut) -> str:
    labels = {
        "pending": "待医院确认 / awaiting the hospital's confirmation",
        "settled": "已结算 / settled",
        "cancelled": "已撤销 / cancelled",
        "voided": "对账作废 / voided by reconciliation",
        "deferred": "转出院后理赔 / deferred to the post-discharge path",
        "transferred": "已转出院后理赔 / transferred to a post-discharge claim",
    }
    return f"{labels.get(s.status, s.status)}: {s.payout} {CURRENCY}"
