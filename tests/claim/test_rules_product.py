"""Product definitions: the sample parses; every kind of mistake is named by its path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from jinyu.claim.errors import ProductDefinitionInvalid
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import LiabilityKind, Payer
from tests.claim.factories import D, sample_definition

RATIOS = {"standard": "0.7", "pre_existing": "0.3", "non_bmi": "0.35", "pre_existing_non_bmi": "0.15"}
DRUG = {"code": "X1", "name": "x", "indications": ["C34"]}


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
        (0, {"ratios": {**RATIOS, "standard": "1.2"}}, "liabilities[0].ratios.standard"),
        (0, {"ratios": {**RATIOS, "weird": "0.1"}}, "liabilities[0].ratios.weird"),
        (0, {"ratios": {"default": "0.7"}}, "liabilities[0].ratios.default"),  # format 1's key
        (0, {"ratios": {}}, "liabilities[0].ratios.standard"),
        (
            1,
            {"ratios": {**RATIOS, "pre_existing_non_bmi": None}},
            "liabilities[1].ratios.pre_existing_non_bmi",
        ),
        (0, {"med_types": None}, "liabilities[0].med_types"),
        (0, {"med_types": []}, "liabilities[0].med_types"),
        (0, {"med_types": ["21", "77"]}, "liabilities[0].med_types[1]"),
        (0, {"med_types": ["21", "inpatient"]}, "liabilities[0].med_types[1]"),
        (0, {"med_types": ["21", "2101", "21"]}, "liabilities[0].med_types[2]"),
        (0, {"in_overall_cap": "no"}, "liabilities[0].in_overall_cap"),
        (2, {"in_overall_cap": False, "cap": None}, "liabilities[2].cap"),
        (0, {"bmi_deductible": "half"}, "liabilities[0].bmi_deductible"),
        (1, {"bmi_deductible": "excluded"}, "liabilities[1].bmi_deductible"),
        (2, {"drugs": [{**DRUG, "hospitals": ["bad code!"]}]}, "liabilities[2].drugs[0].hospitals[0]"),
        (2, {"drugs": [{**DRUG, "pharmacies": "PH0001"}]}, "liabilities[2].drugs[0].pharmacies"),
        (2, {"drugs": [{**DRUG, "hospitals": [], "pharmacies": []}]}, "liabilities[2].drugs[0]"),
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
        {"code": "misc", "kind": "other", "name": "其他", "ratios": RATIOS, "med_types": ["21"]}
    )
    data["deductibles"].append({"code": "spare", "amount": "100.00"})
    assert {"liabilities[3].basis", "deductibles[1].code"} <= fields_of(data)


def test_not_a_mapping() -> None:
    with pytest.raises(ProductDefinitionInvalid):
        parse_product(["not", "a", "mapping"])


# ------------------------------------------------------------------------------------------------ format 2


def test_the_sample_writes_out_format_2() -> None:
    p = parse_product(sample_definition())
    inlist, outlist, special = p.liabilities
    assert p.format == 2
    assert inlist.med_types == ("21", "22", "23", "24", "28") == outlist.med_types
    assert special.med_types == ("11", "14", "21", "22", "23", "24", "28", "41")
    assert (inlist.in_overall_cap, special.in_overall_cap) == (True, False)
    assert inlist.ratios.pick(pre_existing=True, non_bmi=True) == (D("0.15"), "pre_existing_non_bmi")
    assert inlist.ratios.pick(pre_existing=False, non_bmi=True) == (D("0.35"), "non_bmi")
    assert special.ratios.pick(pre_existing=False, non_bmi=True) == (D("0.70"), "non_bmi")
    car_t = special.drugs[-1]
    assert (special.drug_hospitals(car_t), special.drug_pharmacies(car_t)) == (("H00001",), ())
    assert (special.drug_hospitals(special.drugs[0]), special.drug_pharmacies(special.drugs[0])) == (
        ("*",),
        ("PH0001", "PH0002", "PH0003"),
    )
    assert p.named_hospitals == frozenset({"H00001"})


FORMAT1 = Path(__file__).resolve().parent / "data" / "cq_ykb_2025_format1.yaml"


def test_a_format_1_product_keeps_its_meaning() -> None:
    """Stored before format 2: read with the old semantics, written out as the equivalent table."""
    p = parse_product(yaml.safe_load(FORMAT1.read_text(encoding="utf-8")))
    inlist, _, special = p.liabilities
    assert p.format == 1
    assert all(li.med_types is None and li.in_overall_cap and li.carve_refused for li in p.liabilities)
    # the lowest applicable ratio, as a table: default 70 %, pre-existing 30 %, non-BMI 35 %, both min = 30 %
    assert (inlist.ratios.standard, inlist.ratios.pre_existing) == (D("0.70"), D("0.30"))
    assert (inlist.ratios.non_bmi, inlist.ratios.pre_existing_non_bmi) == (D("0.35"), D("0.30"))
    assert (special.ratios.non_bmi, special.ratios.pre_existing_non_bmi) == (D("0.70"), D("0.30"))


@pytest.mark.parametrize("key", ["med_types", "in_overall_cap", "bmi_deductible"])
def test_format_2_terms_are_refused_in_format_1(key: str) -> None:
    data = yaml.safe_load(FORMAT1.read_text(encoding="utf-8"))
    data["liabilities"][0][key] = ["21"] if key == "med_types" else True
    assert f"liabilities[0].{key}" in fields_of(data)


def test_unknown_format() -> None:
    assert "format" in fields_of(sample_definition(format=3))


def test_policy_years_of_a_multi_year_version() -> None:
    # format 2: one version over three policy years from 1 July 2025; each year keyed on its own
    p = parse_product(sample_definition(period={"start": "2025-07-01", "end": "2028-06-30"}))
    assert p.policy_years == (2025, 2026, 2027)
    assert [
        p.policy_year_of(dt.date(*d)) for d in [(2025, 7, 1), (2026, 6, 30), (2026, 7, 1), (2028, 6, 30)]
    ] == [
        2025,
        2025,
        2026,
        2027,
    ]
    assert (p.counter_suffix(2025), p.counter_suffix(2027)) == ("", "@2027")
    too_long = sample_definition(period={"start": "2025-01-01", "end": "2030-01-01"})
    assert "period.end" in fields_of(too_long)
    data = yaml.safe_load(FORMAT1.read_text(encoding="utf-8"))
    data["period"] = {"start": "2025-01-01", "end": "2026-12-31"}
    assert "period.end" in fields_of(data)  # format 1: one year at most, as before
