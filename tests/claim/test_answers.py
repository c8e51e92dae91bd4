"""A fresh settlement's answer built without re-validation (`claim.service.answers`, issue 20): the stored
outcome document, the outcome's JSON and the settlement's API form are those of the validated Pydantic models,
byte for byte — by hand on the sample product, and against validated models over generated adjudications."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jinyu.claim import repository as repo
from jinyu.claim.models import ClaimSettlement
from jinyu.claim.rules.adjudicate import Adjudication, Reason, Usage, adjudicate
from jinyu.claim.rules.ledger import Funding
from jinyu.claim.rules.product import ZERO, DeductiblePeriod, Product
from jinyu.claim.schemas import (
    Accumulators,
    CapState,
    DeductibleState,
    InsurerPayout,
    LiabilityPayout,
    Outcome,
    ReasonOut,
)
from jinyu.claim.service.answers import fresh_settlement_out, outcome, outcome_document
from jinyu.claim.service.booking import Plan, payout_entries
from jinyu.claim.service.common import LoadedProduct, settlement_out
from jinyu.core.db import detached
from tests.claim.factories import D, bill, sample_product
from tests.claim.test_properties import bills, products

PRODUCT = sample_product()
LOADED = LoadedProduct("prod-1", PRODUCT, {"I0001": "ins-a", "I0002": "ins-b"}, {})


def _plan(*funded: tuple[str, str, str, str]) -> Plan:
    return Plan([], {}, {}, {iid: Funding(D(a), D(p), D(r)) for iid, a, p, r in funded})


def _validated(loaded: LoadedProduct, result: Adjudication, p: Plan | None) -> Outcome:
    """The outcome as the models validate it (the code before issue 20's change, kept as the reference)."""

    def reason(r: Reason) -> ReasonOut:
        return ReasonOut(code=r.code, message=r.message, amount=r.amount, line_sn=r.line_sn)

    rules: Product = loaded.rules
    usage = result.after
    codes = {v: k for k, v in loaded.insurer_ids.items()}
    yearly = DeductiblePeriod.POLICY_YEAR
    return Outcome(
        payout=result.payout,
        cash_before=result.cash_before,
        cash_after=result.cash_after,
        liabilities=[
            LiabilityPayout(
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
                reasons=[reason(r) for r in li.reasons],
            )
            for li in result.liabilities
        ],
        not_paid=[reason(r) for r in result.not_paid],
        accumulators=Accumulators(
            deductibles=[
                DeductibleState(
                    code=d.code,
                    period=d.period.value,
                    amount=d.amount,
                    used=usage.deductible_used.get(d.code, ZERO) if d.period == yearly else ZERO,
                    remaining=max(d.amount - usage.deductible_used.get(d.code, ZERO), ZERO)
                    if d.period == yearly
                    else d.amount,
                )
                for d in rules.deductibles
            ],
            liabilities=[
                CapState(
                    code=li.code,
                    name=li.name,
                    cap=li.cap,
                    paid=usage.liability_paid.get(li.code, ZERO),
                    remaining=None
                    if li.cap is None
                    else max(li.cap - usage.liability_paid.get(li.code, ZERO), ZERO),
                )
                for li in rules.liabilities
            ],
            overall=CapState(
                code="overall",
                name="年度总限额 / overall annual cap",
                cap=rules.overall_cap,
                paid=usage.overall_paid,
                remaining=max(rules.overall_cap - usage.overall_paid, ZERO),
            ),
        ),
        insurers=[
            InsurerPayout(
                insurer_id=iid,
                org_code=codes.get(iid, ""),
                amount=f.amount,
                from_prepaid=f.from_prepaid,
                in_arrears=f.in_arrears,
            )
            for iid, f in sorted(p.funding.items())
        ]
        if p is not None
        else [],
        pre_existing=result.pre_existing,
    )


def _same(made: Outcome, reference: Outcome) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a value of the wrong type makes the serializer warn: fail on it
        assert made.model_dump_json() == reference.model_dump_json()
        document = outcome_document(made)
        assert json.dumps(document, ensure_ascii=False) == json.dumps(
            reference.model_dump(mode="json"), ensure_ascii=False
        )  # the same keys in the same order, the same values
        assert Outcome.model_validate(document) == reference


def test_stored_outcome_by_hand() -> None:
    # the golden case of test_rules_adjudicate: 15,000 of the 20,000 deductible used before; in-list 16,000
    # left after BMI, 5,000 deductible → 11,000 × 70 % = 7,700; out-of-list 10,000 × 70 % = 7,000
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00")
    result = adjudicate(PRODUCT, b, Usage({"annual": D("15000.00")}), pre_existing=False)
    made = outcome(
        LOADED,
        result,
        _plan(("ins-b", "5880.00", "5880.00", "0.00"), ("ins-a", "8820.00", "8000.00", "820.00")),
    )
    doc = outcome_document(made)
    assert (doc["payout"], doc["cash_before"], doc["cash_after"]) == ("14700.00", "26000.00", "11300.00")
    inlist = doc["liabilities"][0]
    assert inlist == {
        "code": "inlist",
        "name": "医保目录内住院医疗费用 / In-list inpatient costs left after basic insurance",
        "kind": "inlist_inpatient",
        "basis": "16000.00",
        "deductible_pool": "annual",
        "deductible_applied": "5000.00",
        "ratio": "0.70",
        "ratio_kind": "standard",
        "computed": "7700.00",
        "payout": "7700.00",
        "reasons": [
            {
                "code": "deductible",
                "message": "免赔额“annual”抵扣 / deductible annual applied",
                "amount": "5000.00",
                "line_sn": None,
            },
            {
                "code": "coinsurance",
                "message": "按 70% 比例赔付，个人自付部分 / paid at 70% (standard); the rest is the patient's share",
                "amount": "3300.00",
                "line_sn": None,
            },
        ],
    }
    assert [li["payout"] for li in doc["liabilities"]] == ["7700.00", "7000.00", "0.00"]
    acc = doc["accumulators"]
    assert acc["deductibles"] == [
        {
            "code": "annual",
            "period": "policy_year",
            "amount": "20000.00",
            "used": "20000.00",
            "remaining": "0.00",
        }
    ]
    assert acc["liabilities"][0]["remaining"] == "1992300.00"  # 2,000,000 − 7,700
    assert acc["overall"] == {
        "code": "overall",
        "name": "年度总限额 / overall annual cap",
        "cap": "2000000.00",
        "paid": "14700.00",
        "remaining": "1985300.00",
    }
    # insurers in id order, each with its org code
    assert doc["insurers"] == [
        {
            "insurer_id": "ins-a",
            "org_code": "I0001",
            "amount": "8820.00",
            "from_prepaid": "8000.00",
            "in_arrears": "820.00",
        },
        {
            "insurer_id": "ins-b",
            "org_code": "I0002",
            "amount": "5880.00",
            "from_prepaid": "5880.00",
            "in_arrears": "0.00",
        },
    ]
    assert doc["not_paid"] == [] and doc["pre_existing"] is False
    assert list(doc) == list(Outcome.model_fields)


def test_no_plan_no_insurers_and_uncapped_liability() -> None:
    uncapped = sample_product(
        liabilities=[
            {**li, "cap": None, "in_overall_cap": True} for li in sample_product().raw["liabilities"]
        ],
        deductibles=[{"code": "annual", "amount": "100.00", "period": "per_claim"}],
    )
    loaded = LoadedProduct("prod-2", uncapped, {}, {})
    result = adjudicate(
        uncapped, bill(fulamt_ownpay_amt="1000.00", overlmt_selfpay="50.00"), Usage(), pre_existing=True
    )
    made = outcome(loaded, result, None)
    doc = outcome_document(made)
    assert doc["insurers"] == []
    assert doc["accumulators"]["liabilities"][0]["cap"] is None
    assert doc["accumulators"]["liabilities"][0]["remaining"] is None
    # a per-claim deductible shows no use and its whole amount remaining
    assert doc["accumulators"]["deductibles"] == [
        {"code": "annual", "period": "per_claim", "amount": "100.00", "used": "0.00", "remaining": "100.00"}
    ]
    assert [r["code"] for r in doc["not_paid"]] == ["over_limit_not_covered"]
    _same(made, _validated(loaded, result, None))


funding = st.integers(0, 10_000_000).map(lambda n: Decimal(n) * Decimal("0.01"))


@settings(max_examples=200, deadline=None)
@given(products(), bills(), st.booleans(), st.lists(st.tuples(funding, funding), max_size=2))
def test_the_same_as_the_validated_models(product: Product, b: Any, pre: bool, funded: list[Any]) -> None:
    loaded = LoadedProduct("p", product, {"I0001": "ins-a", "I0002": "ins-b"}, {})
    result = adjudicate(product, b, Usage(), pre_existing=pre)
    p = _plan(
        *((iid, str(a + r), str(a), str(r)) for iid, (a, r) in zip(("ins-b", "ins-a"), funded, strict=False))
    )
    _same(outcome(loaded, result, p), _validated(loaded, result, p))
    again = adjudicate(product, b, result.after, pre_existing=pre)  # a second claim on the totals after
    _same(outcome(loaded, again, None), _validated(loaded, again, None))


def _row(**changes: Any) -> ClaimSettlement:
    at = dt.datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    values: dict[str, Any] = {
        "id": "st-1",
        "channel": "direct",
        "status": "pending",
        "hospital_id": "h-1",
        "product_id": "prod-1",
        "product_code": "CQ-HMB-2025",
        "product_version": 3,
        "policy_year": 2025,
        "enrollment_id": "en-1",
        "person_token": "pt_" + "a" * 32,
        "id_masked": "500101********1234",
        "mdtrt_id": "V1",
        "setl_id": "S1",
        "interim": False,
        "msg_id": "M1",
        "request_hash": "h" * 64,
        "setl_time": dt.datetime(2025, 3, 4, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "business_date": dt.date(2025, 3, 4),
        "medfee_sumamt": D("50000.00"),
        "med_type": "21",
        "insutype": None,
        "psn_token": None,
        "act_pay_dedc": D("0.00"),
        "funds": D("24000.00"),
        "acct_pay": D("0.00"),
        "cash_before": D("26000.00"),
        "payout": D("14700.00"),
        "cash_after": D("11300.00"),
        "bill": {},
        "result": {},
        "funding": {},
        "note": "",
        "created_at": at,
    }
    values.update(changes)
    return detached(ClaimSettlement, **values)


def test_settlement_out_the_same_bytes() -> None:
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00")
    result = adjudicate(PRODUCT, b, Usage({"annual": D("15000.00")}), pre_existing=False)
    made = outcome(LOADED, result, _plan(("ins-a", "14700.00", "14700.00", "0.00")))
    for row in (_row(), _row(status="settled", insutype="310", confirmed_at=_row().created_at)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fresh = fresh_settlement_out(row, made).model_dump_json()
        assert fresh == settlement_out(row, made).model_dump_json()
        answered = json.loads(fresh)
        assert answered["setl_time"] == "2025-03-04T05:00:00Z"  # Shanghai 13:00 answered in UTC
        assert answered["origin_id"] is None and answered["closed_at"] is None and answered["since"] is None
        assert answered["outcome"]["payout"] == "14700.00"
    assert json.loads(fresh)["confirmed_at"] == "2025-03-04T05:06:07.890123Z"


def _payout_rows(monkeypatch: Any, row: ClaimSettlement, **kwargs: Any) -> list[dict[str, Any]]:
    captured: list[dict[str, Any]] = []
    monkeypatch.setattr(repo, "add_payout_entries", lambda _session, rows: captured.extend(rows))
    payout_entries(None, row, **kwargs)  # type: ignore[arg-type]
    return [{k: v for k, v in r.items() if k not in ("id", "at")} for r in captured]


def test_payout_entries_from_the_plan_are_those_from_the_stored_split(monkeypatch: Any) -> None:
    parts = [
        ("inlist", "ins-a", D("4620.00")),
        ("inlist", "ins-b", D("3080.00")),
        ("outlist", "ins-a", D("0.01")),
    ]
    stored = {"split": [{"liability": li, "insurer_id": i, "amount": str(v)} for li, i, v in parts]}
    row = _row(funding=stored)
    from_stored = _payout_rows(monkeypatch, row, sign=1)
    assert from_stored == _payout_rows(monkeypatch, row, sign=1, split=parts)
    assert [(r["liability"], r["insurer_id"], r["amount"], r["kind"]) for r in from_stored] == [
        ("inlist", "ins-a", D("4620.00"), "payout"),
        ("inlist", "ins-b", D("3080.00"), "payout"),
        ("outlist", "ins-a", D("0.01"), "payout"),
    ]
    assert {(r["month"], r["hospital_id"], r["product_code"]) for r in from_stored} == {
        ("2025-03", "h-1", "CQ-HMB-2025")
    }
    reversed_ = _payout_rows(monkeypatch, row, sign=-1)
    assert [(r["amount"], r["kind"]) for r in reversed_] == [
        (D("-4620.00"), "reversal"),
        (D("-3080.00"), "reversal"),
        (D("-0.01"), "reversal"),
    ]
    assert str(reversed_[0]["amount"]) == "-4620.00"
