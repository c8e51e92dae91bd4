"""Product definitions: the sample parses; every kind of mistake is named by its path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jinyu.claim.errors import ProductDefinitionInvalid
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import LiabilityKind, Payer
from tests.claim.factories import D, sample_definition


def fields_of(data: dict[str, Any]) -> set[str]:
    with pytest.raises(ProductDefinitionInvalid) as err:
        parse_product(data)
    return {f.field for f in err.value.fields}


def test_the_sample_product_parses() -> None:
    p = parse_product(sample_definition())
    assert (p.code, p.year, p.period_start, p.period_end) == (
        "CQ-YKB-2025",
        2025,
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )
    assert p.deductible("annual").amount == D("20000.00")
    assert [li.kind for li in p.liabilities] == [
        LiabilityKind.INLIST_INPATIENT,
        LiabilityKind.OUTLIST,
        LiabilityKind.SPECIAL_DRUG,
    ]
    assert p.liabilities[0].ratios.pre_existing == D("0.30")
    assert p.liabilities[2].deductible is None
    assert p.overall_cap == D("2000000.00")
    assert p.lead.org_code == "I0001" and sum(i.share for i in p.insurers) == 1
    assert p.public_fund_fields == ("hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay")
    assert p.definition_hash() == parse_product(sample_definition()).definition_hash()


def test_payer_order_decides_which_public_funds_are_deducted() -> None:
    order = ["bmi", "serious_illness", "large_amount", "product", "medical_assistance"]
    p = parse_product(sample_definition(payer_order=order))
    assert p.payer_order[3] == Payer.PRODUCT
    assert p.public_fund_fields == ("hifp_pay", "hifmi_pay", "hifob_pay")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "bad code!"}, "code"),
        ({"year": 1999}, "year"),
        ({"city": "50"}, "city"),
        ({"period": {"start": "2025-12-31", "end": "2025-01-01"}}, "period.end"),
        ({"premium": 69.0}, "premium"),
        ({"overall_cap": "0"}, "overall_cap"),
        ({"rounding": "ceiling"}, "rounding"),
        ({"payer_order": ["product", "bmi"]}, "payer_order"),
        (
            {"payer_order": ["bmi", "serious_illness", "large_amount", "medical_assistance", "product", "x"]},
            "payer_order[5]",
        ),
        ({"insurers": [{"org_code": "I1", "share": "0.5"}, {"org_code": "I2", "share": "0.4"}]}, "insurers"),
        ({"insurers": []}, "insurers"),
        ({"deductibles": [{"code": "annual", "amount": "20000.001"}]}, "deductibles[0].amount"),
    ],
)
def test_root_mistakes_are_named(changes: dict[str, Any], field: str) -> None:
    assert field in fields_of(sample_definition(**changes))


def _with_liability(n: int, **changes: Any) -> dict[str, Any]:
    data = sample_definition()
    data["liabilities"][n] = {**data["liabilities"][n], **changes}
    return data


@pytest.mark.parametrize(
    ("n", "changes", "field"),
    [
        (0, {"ratios": {"default": "1.2"}}, "liabilities[0].ratios.default"),
        (0, {"ratios": {"default": "0.7", "weird": "0.1"}}, "liabilities[0].ratios.weird"),
        (0, {"ratios": {}}, "liabilities[0].ratios.default"),
        (0, {"deductible": "nope"}, "liabilities[0].deductible"),
        (0, {"kind": "dental"}, "liabilities[0].kind"),
        (0, {"cap": "-1"}, "liabilities[0].cap"),
        (0, {"basis": {"add": ["no_such_field"]}}, "liabilities[0].basis.add"),
        (1, {"code": "inlist"}, "liabilities"),
        (2, {"drugs": []}, "liabilities[2].drugs"),
        (
            2,
            {"drugs": [{"code": "X1", "name": "x", "indications": ["lung"]}]},
            "liabilities[2].drugs[0].indications",
        ),
        (2, {"basis": {"add": ["fulamt_ownpay_amt"]}}, "liabilities[2].basis"),
    ],
)
def test_liability_mistakes_are_named(n: int, changes: dict[str, Any], field: str) -> None:
    assert field in fields_of(_with_liability(n, **changes))


def test_an_other_liability_needs_a_basis_and_unused_pools_are_reported() -> None:
    data = sample_definition()
    data["liabilities"].append(
        {"code": "misc", "kind": "other", "name": "其他", "ratios": {"default": "0.5"}}
    )
    data["deductibles"].append({"code": "spare", "amount": "100.00"})
    assert {"liabilities[3].basis", "deductibles[1].code"} <= fields_of(data)


def test_not_a_mapping() -> None:
    with pytest.raises(ProductDefinitionInvalid):
        parse_product(["not", "a", "mapping"])
