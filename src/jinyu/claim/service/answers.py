"""A fresh settlement's answer: the outcome model, its stored JSON form, and the API form of the settlement.

Why (issue 20): these are built once per settlement from values the rules made themselves — Decimals to the
fen, codes and names from the parsed product, bools — so validating them again through the Pydantic models
(every field checked, every nested model rebuilt) and then dumping the outcome through the serializer to store
it was work done twice. Here the models are made with `model_construct` (no validation: the values are
already of the fields' types, and in lists, as the serializer expects) and the stored form is written
directly, key for key what `Outcome.model_dump(mode="json")` gives (Decimal as `str`, nested models as
objects in field order). `tests/claim/test_answers.py` holds both to the validated models' bytes.

Replays and reads (the outcome read back from `row.result`) still go through validation: `common.settlement_out`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinyu.claim.models import ClaimSettlement
from jinyu.claim.rules.adjudicate import Adjudication, Reason, Usage
from jinyu.claim.rules.product import ZERO, DeductiblePeriod, Product
from jinyu.claim.schemas import (
    Accumulators,
    CapState,
    DeductibleState,
    InsurerPayout,
    LiabilityPayout,
    Outcome,
    ReasonOut,
    SettlementOut,
)
from jinyu.claim.service import booking
from jinyu.claim.service.common import LoadedProduct
from jinyu.core.clock import as_utc

_OVERALL_NAME = "年度总限额 / overall annual cap"


def outcome(loaded: LoadedProduct, result: Adjudication, p: booking.Plan | None) -> Outcome:
    """The adjudication as answered (and stored): per liability, why not paid, accumulators, insurers."""
    insurers = []
    if p is not None:
        codes = {v: k for k, v in loaded.insurer_ids.items()}
        for iid, f in sorted(p.funding.items()):
            insurers.append(
                InsurerPayout.model_construct(
                    insurer_id=iid,
                    org_code=codes.get(iid, ""),
                    amount=f.amount,
                    from_prepaid=f.from_prepaid,
                    in_arrears=f.in_arrears,
                )
            )
    return Outcome.model_construct(
        payout=result.payout,
        cash_before=result.cash_before,
        cash_after=result.cash_after,
        liabilities=[
            LiabilityPayout.model_construct(
                code=li.code,
                name=li.name,
                kind=li.kind.value,
                basis=li.basis,
                deductible_pool=li.deductible_pool,
                deductible_applied=li.deductible_applied,
                ratio=li.ratio,
                ratio_kind=li.ratio_kind,
                computed=li.computed,
                payout=li.payout,
                reasons=[_reason(r) for r in li.reasons],
            )
            for li in result.liabilities
        ],
        not_paid=[_reason(r) for r in result.not_paid],
        accumulators=accumulators(loaded.rules, result.after),
        insurers=insurers,
        pre_existing=result.pre_existing,
    )


def _reason(r: Reason) -> ReasonOut:
    return ReasonOut.model_construct(code=r.code, message=r.message, amount=r.amount, line_sn=r.line_sn)


def accumulators(product: Product, usage: Usage) -> Accumulators:
    """`common.accumulator_view` without validation (the same values: the product's and the usage's)."""
    used, paid = usage.deductible_used, usage.liability_paid
    deductibles = []
    for d in product.deductibles:
        yearly = d.period == DeductiblePeriod.POLICY_YEAR
        deductibles.append(
            DeductibleState.model_construct(
                code=d.code,
                period=d.period.value,
                amount=d.amount,
                used=used.get(d.code, ZERO) if yearly else ZERO,
                remaining=max(d.amount - used.get(d.code, ZERO), ZERO) if yearly else d.amount,
            )
        )
    liabilities = [
        CapState.model_construct(
            code=li.code,
            name=li.name,
            cap=li.cap,
            paid=paid.get(li.code, ZERO),
            remaining=None if li.cap is None else max(li.cap - paid.get(li.code, ZERO), ZERO),
        )
        for li in product.liabilities
    ]
    overall = CapState.model_construct(
        code="overall",
        name=_OVERALL_NAME,
        cap=product.overall_cap,
        paid=usage.overall_paid,
        remaining=max(product.overall_cap - usage.overall_paid, ZERO),
    )
    return Accumulators.model_construct(deductibles=deductibles, liabilities=liabilities, overall=overall)


# ------------------------------------------------------------------------------------------------ stored form


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _reason_doc(r: ReasonOut) -> dict[str, Any]:
    return {"code": r.code, "message": r.message, "amount": str(r.amount), "line_sn": r.line_sn}


def _cap_doc(c: CapState) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "cap": _amount(c.cap),
        "paid": str(c.paid),
        "remaining": _amount(c.remaining),
    }


def _accumulators_doc(a: Accumulators | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "deductibles": [
            {
                "code": d.code,
                "period": d.period,
                "amount": str(d.amount),
                "used": str(d.used),
                "remaining": str(d.remaining),
            }
            for d in a.deductibles
        ],
        "liabilities": [_cap_doc(c) for c in a.liabilities],
        "overall": _cap_doc(a.overall),
    }


def outcome_document(o: Outcome) -> dict[str, Any]:
    """What `o.model_dump(mode="json")` gives, written out: the settlement row's stored `result`."""
    return {
        "payout": str(o.payout),
        "cash_before": str(o.cash_before),
        "cash_after": str(o.cash_after),
        "liabilities": [
            {
                "code": li.code,
                "name": li.name,
                "kind": li.kind,
                "basis": str(li.basis),
                "deductible_pool": li.deductible_pool,
                "deductible_applied": str(li.deductible_applied),
                "ratio": str(li.ratio),
                "ratio_kind": li.ratio_kind,
                "computed": str(li.computed),
                "payout": str(li.payout),
                "reasons": [_reason_doc(r) for r in li.reasons],
            }
            for li in o.liabilities
        ],
        "not_paid": [_reason_doc(r) for r in o.not_paid],
        "accumulators": _accumulators_doc(o.accumulators),
        "insurers": [
            {
                "insurer_id": i.insurer_id,
                "org_code": i.org_code,
                "amount": str(i.amount),
                "from_prepaid": str(i.from_prepaid),
                "in_arrears": str(i.in_arrears),
            }
            for i in o.insurers
        ],
        "pre_existing": o.pre_existing,
    }


# ------------------------------------------------------------------------------------------------ API form


def fresh_settlement_out(row: ClaimSettlement, answer: Outcome) -> SettlementOut:
    """`common.settlement_out(row, answer)` for a row this process just made (not read back): its values are
    of the model's types already (set by `intake.new_row` from the canonical bill and the rules)."""
    d = row.__dict__  # the detached row's own values; no attribute instrumentation per read
    return SettlementOut.model_construct(
        id=d["id"],
        status=d["status"],
        channel=d["channel"],
        hospital_id=d["hospital_id"],
        product_code=d["product_code"],
        product_version=d["product_version"],
        policy_year=d["policy_year"],
        mdtrt_id=d["mdtrt_id"],
        setl_id=d["setl_id"],
        setl_time=as_utc(d["setl_time"]),
        business_date=d["business_date"],
        id_masked=d["id_masked"],
        med_type=d["med_type"],
        insutype=d["insutype"],
        medfee_sumamt=d["medfee_sumamt"],
        funds=d["funds"],
        acct_pay=d["acct_pay"],
        act_pay_dedc=d["act_pay_dedc"],
        payout=d["payout"],
        cash_before=d["cash_before"],
        cash_after=d["cash_after"],
        outcome=answer,
        note=d["note"],
        origin_id=d.get("origin_id"),
        created_at=d["created_at"],
        confirmed_at=d.get("confirmed_at"),
        closed_at=d.get("closed_at"),
    )
