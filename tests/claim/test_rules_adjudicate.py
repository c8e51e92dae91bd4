"""Golden cases of the adjudication engine on the shipped sample product (deductible 20,000 shared by in-list
and out-of-list costs, 70 % / 30 % pre-existing / 35 % not settled through BMI, special drugs without
deductible, caps: in-list 2 M, out-of-list 1 M, special drugs 1 M, overall 2 M)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from jinyu.claim.rules.adjudicate import (
    BillLine,
    Usage,
    adjudicate,
    bill_problems,
    invariant_holds,
    is_pre_existing,
    split_shares,
)
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import InsurerShare
from tests.claim.factories import D, bill, drug_line, format1_product, sample_definition, sample_product

PRODUCT = sample_product()


def by_code(result, code):  # type: ignore[no-untyped-def]
    return next(li for li in result.liabilities if li.code == code)


def reasons(outcome) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.code for r in outcome.reasons}


def test_deductible_not_reached() -> None:
    b = bill(inscp_scp_amt="25000.00", fulamt_ownpay_amt="5000.00", hifp_pay="15000.00")
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    assert by_code(r, "inlist").basis == D("10000.00")
    assert by_code(r, "outlist").basis == D("5000.00")
    assert (r.payout, r.cash_before, r.cash_after) == (D("0.00"), D("15000.00"), D("15000.00"))
    assert r.after.deductible_used == {"annual": D("15000.00")}
    assert r.consumed.overall_paid == 0
    assert reasons(by_code(r, "inlist")) == {"deductible"}
    assert invariant_holds(b, r)


def test_deductible_crossed_within_one_claim_in_liability_order() -> None:
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00")
    r = adjudicate(PRODUCT, b, Usage({"annual": D("15000.00")}), pre_existing=False)
    inlist, outlist = by_code(r, "inlist"), by_code(r, "outlist")
    # in-list first: 16,000 left after BMI, 5,000 of deductible left → 11,000 × 70 %
    assert (inlist.basis, inlist.deductible_applied, inlist.payout) == (
        D("16000.00"),
        D("5000.00"),
        D("7700.00"),
    )
    # the shared deductible is used up, so out-of-list pays from the first yuan
    assert (outlist.deductible_applied, outlist.payout) == (D("0.00"), D("7000.00"))
    assert (r.payout, r.cash_after) == (D("14700.00"), D("11300.00"))
    assert r.after.deductible_used == {"annual": D("20000.00")}
    assert invariant_holds(b, r)


def test_overall_cap_reached_mid_claim() -> None:
    paid = {"inlist": D("1000000.00"), "outlist": D("990000.00")}
    before = Usage({"annual": D("20000.00")}, paid, D("1990000.00"))
    b = bill(
        inscp_scp_amt="100000.00", fulamt_ownpay_amt="5000.00", hifp_pay="60000.00", hifmi_pay="10000.00"
    )
    r = adjudicate(PRODUCT, b, before, pre_existing=False)
    inlist, outlist = by_code(r, "inlist"), by_code(r, "outlist")
    assert (inlist.computed, inlist.payout) == (D("21000.00"), D("10000.00"))
    assert "overall_cap" in reasons(inlist)
    assert (outlist.computed, outlist.payout) == (D("3500.00"), D("0.00"))
    assert r.after.overall_paid == D("2000000.00")
    assert invariant_holds(b, r)


def test_liability_cap_reached_mid_claim() -> None:
    before = Usage({"annual": D("20000.00")}, {"outlist": D("999000.00")}, D("999000.00"))
    r = adjudicate(PRODUCT, bill(fulamt_ownpay_amt="10000.00"), before, pre_existing=False)
    outlist = by_code(r, "outlist")
    assert (outlist.computed, outlist.payout) == (D("7000.00"), D("1000.00"))
    assert reasons(outlist) == {"coinsurance", "liability_cap"}
    assert r.after.liability_paid["outlist"] == D("1000000.00")


def test_pre_existing_condition_ratio() -> None:
    assert is_pre_existing(["C34"], ["C34.1"])
    assert not is_pre_existing(["C34"], ["C50.9"])
    assert is_pre_existing(["*"], [])
    b = bill(inscp_scp_amt="30000.00", hifp_pay="20000.00", diagnoses=["C34.1"])
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=True)
    inlist = by_code(r, "inlist")
    assert (inlist.ratio, inlist.ratio_kind, inlist.payout) == (D("0.30"), "pre_existing", D("3000.00"))


def test_special_drug_outside_its_indication_stays_an_out_of_list_cost() -> None:
    line = drug_line("1", "L01FF02", "30000.00")  # pembrolizumab: lung, melanoma, ... not breast cancer
    b = bill(fulamt_ownpay_amt="30000.00", diagnoses=["C50.9"], lines=[line])
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert by_code(r, "special_drug").payout == 0
    # refused by the special-drug liability, the line stays in the out-of-list base: 30,000 × 70 % = 21,000
    # (format 1 carved every listed drug out, so it was paid nowhere: 0.00)
    assert (by_code(r, "outlist").basis, by_code(r, "outlist").payout) == (D("30000.00"), D("21000.00"))
    assert [(n.code, n.amount, n.line_sn) for n in r.not_paid] == [
        ("drug_outside_indication", D("30000.00"), "1")
    ]
    assert r.payout == D("21000.00") and invariant_holds(b, r)


def test_special_drug_within_indication_has_no_deductible() -> None:
    b = bill(fulamt_ownpay_amt="30000.00", diagnoses=["C34.1"], lines=[drug_line("1", "L01FF02", "30000.00")])
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    special = by_code(r, "special_drug")
    assert (special.basis, special.deductible_applied, special.payout) == (
        D("30000.00"),
        D("0"),
        D("21000.00"),
    )
    assert r.after.deductible_used == {"annual": D("0.00")}


def test_special_drug_from_an_undesignated_pharmacy() -> None:
    line = drug_line("7", "L01FD01", "8000.00", pharmacy="PH9999")
    b = bill(fulamt_ownpay_amt="8000.00", diagnoses=["C50.1"], lines=[line])
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    assert by_code(r, "special_drug").payout == 0
    assert r.not_paid[0].code == "channel_not_designated"
    ok = adjudicate(
        PRODUCT,
        bill(
            fulamt_ownpay_amt="8000.00",
            diagnoses=["C50.1"],
            lines=[drug_line("7", "L01FD01", "8000.00", "PH0001")],
        ),
        Usage(),
        pre_existing=False,
    )
    assert by_code(ok, "special_drug").payout == D("5600.00")


def test_bill_not_settled_through_bmi() -> None:
    b = bill(inscp_scp_amt="50000.00", bmi_settled=False)
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    inlist = by_code(r, "inlist")
    assert (inlist.basis, inlist.deductible_applied) == (D("50000.00"), D("20000.00"))
    assert (inlist.ratio_kind, inlist.payout) == ("non_bmi", D("10500.00"))
    # with a pre-existing condition too, the table's own ratio for both: (50,000 − 20,000) × 15 % = 4,500.00
    # (format 1 took the lowest of 30 % and 35 %: 9,000.00)
    r2 = adjudicate(PRODUCT, b, Usage(), pre_existing=True)
    both = by_code(r2, "inlist")
    assert (both.ratio, both.ratio_kind, both.payout) == (D("0.15"), "pre_existing_non_bmi", D("4500.00"))


def test_payout_never_exceeds_the_patients_cash_share() -> None:
    b = bill(inscp_scp_amt="60000.00", hifp_pay="30000.00", acct_pay="25000.00")
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert (by_code(r, "inlist").computed, r.payout, r.cash_after) == (D("21000.00"), D("5000.00"), D("0.00"))
    assert "cash_share_limit" in reasons(by_code(r, "inlist"))
    assert invariant_holds(b, r)


def test_over_limit_self_pay_is_not_covered() -> None:
    b = bill(inscp_scp_amt="1000.00", overlmt_selfpay="300.00")
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    assert [n.code for n in r.not_paid] == ["over_limit_not_covered"]


def test_public_funds_above_the_in_list_amount_leave_nothing_never_negative() -> None:
    b = bill(inscp_scp_amt="1000.00", fulamt_ownpay_amt="500.00", hifp_pay="1200.00")
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert by_code(r, "inlist").basis == 0
    assert by_code(r, "outlist").payout == D("300.00")  # 70 % of 500 = 350, cut to the 300 cash share
    assert r.cash_after == 0


@pytest.mark.parametrize(
    ("mode", "expected"), [("half_up", "70.11"), ("half_even", "70.10"), ("down", "70.10")]
)
def test_rounding_to_the_fen_per_liability(mode: str, expected: str) -> None:
    product = sample_product(rounding=mode)
    b = bill(inscp_scp_amt="100.15")
    r = adjudicate(product, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert by_code(r, "inlist").payout == D(expected)


def test_a_product_may_override_the_basis() -> None:
    data = sample_product().raw
    liabilities = [dict(li) for li in data["liabilities"]]
    liabilities.append(
        {
            "code": "overlimit",
            "kind": "other",
            "name": "超限价",
            "deductible": None,
            "med_types": ["21"],
            "ratios": {
                "standard": "0.50",
                "pre_existing": "0.50",
                "non_bmi": "0.50",
                "pre_existing_non_bmi": "0",
            },
            "basis": {"add": ["overlmt_selfpay"]},
        }
    )
    product = sample_product(liabilities=liabilities)
    r = adjudicate(product, bill(overlmt_selfpay="300.00"), Usage(), pre_existing=False)
    assert by_code(r, "overlimit").payout == D("150.00")
    assert r.not_paid == ()


def test_bill_problems_name_the_fields() -> None:
    assert bill_problems(bill(inscp_scp_amt="100.00")) == []
    bad = bill(inscp_scp_amt="100.00", medfee_sumamt="99.00")
    assert [p.field for p in bill_problems(bad)] == ["medfee_sumamt"]
    over = bill(inscp_scp_amt="100.00", hifp_pay="80.00", acct_pay="30.00")
    assert [p.field for p in bill_problems(over)] == ["medfee_sumamt"]
    cash = bill(inscp_scp_amt="100.00", hifp_pay="80.00", psn_cash_pay="10.00")
    assert [p.field for p in bill_problems(cash)] == ["psn_cash_pay"]
    not_bmi = bill(inscp_scp_amt="100.00", hifp_pay="80.00", bmi_settled=False)
    assert [p.field for p in bill_problems(not_bmi)] == ["bmi_settled"]
    lines = bill(fulamt_ownpay_amt="100.00", lines=[drug_line("1", "X", "90.00")])
    assert {p.field for p in bill_problems(lines)} == {"medfee_sumamt", "fulamt_ownpay_amt"}


def test_split_shares_is_exact_and_favours_the_lead_on_ties() -> None:
    insurers = [InsurerShare("A", D("0.6"), True), InsurerShare("B", D("0.4"), False)]
    assert split_shares(D("100.01"), insurers) == {"A": D("60.01"), "B": D("40.00")}
    thirds = [
        InsurerShare("A", D("0.3334"), True),
        InsurerShare("B", D("0.3333"), False),
        InsurerShare("C", D("0.3333"), False),
    ]
    parts = split_shares(D("0.02"), thirds)
    assert sum(parts.values()) == D("0.02") and parts["A"] == D("0.01")
    assert split_shares(Decimal("0.00"), insurers) == {"A": D("0.00"), "B": D("0.00")}


# ------------------------------------------------------------------------------------------------ format 2 rules
# Golden cases of the rules product format 2 expresses, on the sample (and, for contrast, the same product as
# stored in format 1). The arithmetic is in the comments; every amount is checked to the fen.

FORMAT1 = format1_product()


def liability_codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [li.code for li in result.liabilities]


@pytest.mark.parametrize(
    ("med_type", "applies", "payout", "deductible_used"),
    [
        # inpatient 21: in-list 40,000 − BMI 24,000 = 16,000; 5,000 deductible left → 11,000 × 70 % = 7,700;
        # out-of-list 10,000 × 70 % = 7,000 → 14,700; the pool is used up (15,000 + 5,000)
        ("21", ["inlist", "outlist", "special_drug"], "14700.00", "20000.00"),
        ("2101", ["inlist", "outlist", "special_drug"], "14700.00", "20000.00"),  # a local subtype of 21
        ("28", ["inlist", "outlist", "special_drug"], "14700.00", "20000.00"),  # day surgery
        # outpatient 11 and pharmacy 41: the inpatient liabilities neither pay nor consume the deductible
        ("11", ["special_drug"], "0.00", "15000.00"),
        ("41", ["special_drug"], "0.00", "15000.00"),
        ("52", [], "0.00", "15000.00"),  # maternity inpatient: nothing in this product covers it
    ],
)
def test_visit_type_picks_the_liabilities(
    med_type: str, applies: list[str], payout: str, deductible_used: str
) -> None:
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00", med_type=med_type)
    r = adjudicate(PRODUCT, b, Usage({"annual": D("15000.00")}), pre_existing=False)
    assert liability_codes(r) == applies
    assert r.payout == D(payout)
    assert r.after.deductible_used == {"annual": D(deductible_used)}
    assert ("med_type_not_covered" in [n.code for n in r.not_paid]) == (not applies)
    assert invariant_holds(b, r)
    # format 1 products ignore the visit type (as they always did): the outpatient bill pays 14,700 too
    assert adjudicate(FORMAT1, b, Usage({"annual": D("15000.00")}), pre_existing=False).payout == D(
        "14700.00"
    )


def _residents_only_outlist() -> object:
    """The sample product with its out-of-list liability limited to urban-rural residents (insutype 390)."""
    data = sample_product().raw
    liabilities = [dict(li) for li in data["liabilities"]]
    for li in liabilities:
        if li["code"] == "outlist":
            li["insutypes"] = ["390"]
    return sample_product(liabilities=liabilities)


@pytest.mark.parametrize(
    ("insutype", "applies", "payout", "why"),
    [
        # resident 390: in-list 40,000 − BMI 24,000 = 16,000; 5,000 deductible left → 11,000 × 70 % = 7,700;
        # out-of-list 10,000 × 70 % = 7,000 → 14,700
        ("390", ["inlist", "outlist", "special_drug"], "14700.00", None),
        # employee 310: the out-of-list liability does not apply → in-list 7,700 only
        ("310", ["inlist", "special_drug"], "7700.00", "insutype_not_covered"),
        # not sent: liabilities limited to insurance types do not apply, and the answer says why
        (None, ["inlist", "special_drug"], "7700.00", "insutype_missing"),
    ],
)
def test_insurance_type_limits_the_liabilities(
    insutype: str | None, applies: list[str], payout: str, why: str | None
) -> None:
    product = _residents_only_outlist()
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00", insutype=insutype)
    r = adjudicate(product, b, Usage({"annual": D("15000.00")}), pre_existing=False)  # type: ignore[arg-type]
    assert liability_codes(r) == applies
    assert r.payout == D(payout)
    assert [n.code for n in r.not_paid if n.code.startswith("insutype")] == ([why] if why else [])
    assert invariant_holds(b, r)


def test_insutypes_are_validated_by_path() -> None:
    data = sample_definition()
    data["liabilities"][0]["insutypes"] = ["310", "999", "310"]
    with pytest.raises(Exception) as raised:
        parse_product(data)
    fields = {f.field for f in raised.value.fields}  # type: ignore[attr-defined]
    assert {"liabilities[0].insutypes[1]", "liabilities[0].insutypes[2]"} <= fields


def test_pharmacy_purchase_of_a_special_drug() -> None:
    # med_type 41 at designated pharmacy PH0001: pembrolizumab 17,900 for C34.1 (on the line) → × 70 % =
    # 12,530.00 without deductible; a 100.00 non-listed line is an out-of-list cost no pharmacy liability covers
    lines = [
        drug_line("1", "L01FF02", "17900.00", "PH0001", diagnosis="C34.1"),
        drug_line("2", "OTC-1", "100.00", "PH0001"),
    ]
    b = bill(fulamt_ownpay_amt="18000.00", med_type="41", lines=lines)
    r = adjudicate(PRODUCT, b, Usage(), pre_existing=False)
    assert liability_codes(r) == ["special_drug"]
    assert (r.payout, r.cash_after) == (D("12530.00"), D("5470.00"))
    assert r.after.deductible_used == {"annual": D("0.00")}


@pytest.mark.parametrize(
    ("bmi_deductible", "basis", "payout"),
    [
        # in-list share after BMI: 40,000 − 24,000 = 16,000 (of which 1,000 is the BMI deductible paid);
        # deductible already used up → 16,000 × 70 % = 11,200.00
        ("covered", "16000.00", "11200.00"),
        # excluded: 16,000 − act_pay_dedc 1,000 = 15,000 × 70 % = 10,500.00
        ("excluded", "15000.00", "10500.00"),
    ],
)
def test_bmi_deductible_paid_enters_the_in_list_basis_as_the_product_says(
    bmi_deductible: str, basis: str, payout: str
) -> None:
    data = sample_definition()
    data["liabilities"][0]["bmi_deductible"] = bmi_deductible
    product = parse_product(data)
    b = bill(inscp_scp_amt="40000.00", hifp_pay="24000.00", act_pay_dedc="1000.00")
    inlist = by_code(adjudicate(product, b, Usage({"annual": D("20000.00")}), pre_existing=False), "inlist")
    assert (inlist.basis, inlist.payout) == (D(basis), D(payout))
    too_much = bill(inscp_scp_amt="400.00", act_pay_dedc="500.00")
    assert [p.field for p in bill_problems(too_much)] == ["act_pay_dedc"]


def test_special_drugs_have_their_own_cap_outside_the_overall_cap() -> None:
    # 1,000 left of the 2,000,000 overall cap. In-list: (10,000 − 6,000) × 70 % = 2,800 → cut to 1,000.
    # Special drug: 30,000 × 70 % = 21,000, outside the overall cap: paid in full, overall not moved.
    b = bill(
        inscp_scp_amt="10000.00",
        hifp_pay="6000.00",
        fulamt_ownpay_amt="30000.00",
        diagnoses=["C34.1"],
        lines=[drug_line("1", "L01FF02", "30000.00")],
        lines_complete=False,
    )
    before = Usage({"annual": D("20000.00")}, {"inlist": D("1999000.00")}, D("1999000.00"))
    r = adjudicate(PRODUCT, b, before, pre_existing=False)
    assert (by_code(r, "inlist").payout, by_code(r, "special_drug").payout) == (D("1000.00"), D("21000.00"))
    assert (r.payout, r.after.overall_paid, r.consumed.overall_paid) == (
        D("22000.00"),
        D("2000000.00"),
        D("1000.00"),
    )
    assert r.after.liability_paid["special_drug"] == D("21000.00")
    # format 1: the special drug was cut by (and counted in) the overall cap: 1,000 + 0
    old = adjudicate(FORMAT1, b, before, pre_existing=False)
    assert (old.payout, by_code(old, "special_drug").payout) == (D("1000.00"), D("0.00"))


@pytest.mark.parametrize(
    ("pre_existing", "bmi_settled", "kind", "ratio", "payout", "format1_payout"),
    [
        # 10,000 in-list, no fund, deductible used up: 10,000 × the table's ratio
        (False, True, "standard", "0.70", "7000.00", "7000.00"),
        (True, True, "pre_existing", "0.30", "3000.00", "3000.00"),
        (False, False, "non_bmi", "0.35", "3500.00", "3500.00"),
        (True, False, "pre_existing_non_bmi", "0.15", "1500.00", "3000.00"),  # format 1: min(30 %, 35 %)
    ],
)
def test_ratio_table_per_combination_of_conditions(
    pre_existing: bool, bmi_settled: bool, kind: str, ratio: str, payout: str, format1_payout: str
) -> None:
    b = bill(inscp_scp_amt="10000.00", bmi_settled=bmi_settled)
    used = Usage({"annual": D("20000.00")})
    inlist = by_code(adjudicate(PRODUCT, b, used, pre_existing=pre_existing), "inlist")
    assert (inlist.ratio_kind, inlist.ratio, inlist.payout) == (kind, D(ratio), D(payout))
    assert by_code(adjudicate(FORMAT1, b, used, pre_existing=pre_existing), "inlist").payout == D(
        format1_payout
    )


def test_carve_out_only_of_accepted_lines_each_refusal_with_its_reason() -> None:
    # Visit diagnoses C34.1 and C50.9. Lines: pembrolizumab 30,000 for C34.1 (accepted); trastuzumab 20,000
    # for C34.1 on the line (its indications are C50/C16: refused, although the visit has C50.9);
    # 5,000 asked as a special drug but not listed; 5,000 ordinary.
    lines = [
        drug_line("1", "L01FF02", "30000.00", diagnosis="C34.1"),
        drug_line("2", "L01FD01", "20000.00", diagnosis="C34.1"),
        drug_line("3", "XNOTLISTED", "5000.00", special_drug=True),
        drug_line("4", "ITEM", "5000.00"),
    ]
    b = bill(fulamt_ownpay_amt="60000.00", diagnoses=["C34.1", "C50.9"], lines=lines)
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    # special drug: 30,000 × 70 % = 21,000; out-of-list: 60,000 − 30,000 accepted = 30,000 × 70 % = 21,000
    assert (by_code(r, "special_drug").basis, by_code(r, "special_drug").payout) == (
        D("30000.00"),
        D("21000.00"),
    )
    assert (by_code(r, "outlist").basis, by_code(r, "outlist").payout) == (D("30000.00"), D("21000.00"))
    assert [(n.code, n.amount, n.line_sn) for n in r.not_paid] == [
        ("drug_outside_indication", D("20000.00"), "2"),
        ("drug_not_listed", D("5000.00"), "3"),
    ]
    assert r.payout == D("42000.00") and invariant_holds(b, r)
    # format 1: the refused trastuzumab line leaves the out-of-list base too and is paid nowhere: out-of-list
    # 60,000 − 50,000 = 10,000 × 70 % = 7,000; special drug 21,000 → 28,000 (14,000 less)
    old = adjudicate(FORMAT1, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert (by_code(old, "outlist").basis, old.payout) == (D("10000.00"), D("28000.00"))


@pytest.mark.parametrize(
    ("hospital_id", "pharmacy", "accepted"),
    [
        ("org-h1", None, True),  # dispensed by the named hospital H00001
        ("org-h2", None, False),  # another hospital
        ("org-h1", "PH0001", False),  # a designated pharmacy, but CAR-T names none
    ],
)
def test_designated_channels_per_drug(hospital_id: str, pharmacy: str | None, accepted: bool) -> None:
    product = replace(PRODUCT, hospital_codes={"org-h1": "H00001"})
    line = drug_line("1", "L01XL03", "1200000.00", pharmacy, diagnosis="C85.1")
    b = bill(fulamt_ownpay_amt="1200000.00", lines=[line], hospital_id=hospital_id)
    r = adjudicate(product, b, Usage(), pre_existing=False)
    if accepted:  # 1,200,000 × 70 % = 840,000 (cap 1,000,000); nothing left as out-of-list
        assert (by_code(r, "special_drug").payout, by_code(r, "outlist").basis, r.not_paid) == (
            D("840000.00"),
            D("0.00"),
            (),
        )
    else:  # out-of-list instead: (1,200,000 − 20,000 deductible) × 70 % = 826,000
        assert (by_code(r, "special_drug").payout, by_code(r, "outlist").payout) == (
            D("0.00"),
            D("826000.00"),
        )
        assert [(n.code, n.line_sn) for n in r.not_paid] == [("channel_not_designated", "1")]


def test_the_policy_year_follows_the_settlement_day() -> None:
    product = sample_product(period={"start": "2025-07-01", "end": "2028-06-30"})
    for day, year in [(dt.date(2025, 7, 1), 2025), (dt.date(2026, 6, 30), 2025), (dt.date(2026, 7, 1), 2026)]:
        assert (
            adjudicate(product, bill(inscp_scp_amt="1.00", day=day), Usage(), pre_existing=False).policy_year
            == year
        )


@pytest.mark.parametrize(
    ("lines", "complete", "fields"),
    [
        ([], True, set()),  # no lines: the NHSA totals alone
        ([drug_line("1", "L01FF02", "300.00")], False, set()),  # some lines only: within the totals
        (
            [drug_line("1", "L01FF02", "600.00")],
            False,
            {"medfee_sumamt", "fulamt_ownpay_amt"},
        ),  # more than the totals
        (
            [drug_line("1", "L01FF02", "300.00")],
            True,
            {"medfee_sumamt", "fulamt_ownpay_amt"},
        ),  # all: must add up
        ([drug_line("1", "L01FF02", "500.00")], True, set()),
    ],
)
def test_itemised_lines_are_optional_and_must_add_up_when_complete(
    lines: list[BillLine], complete: bool, fields: set[str]
) -> None:
    b = bill(fulamt_ownpay_amt="500.00", lines=lines, lines_complete=complete)
    assert {p.field for p in bill_problems(b)} == fields


@pytest.mark.parametrize(("settled_by", "paid"), [("org-ph1", "12530.00"), ("org-ph9", "0.00")])
def test_a_pharmacy_dispenses_the_lines_it_settles(settled_by: str, paid: str) -> None:
    # settled by pharmacy PH0001 (designated) or an unnamed one: 17,900 × 70 % = 12,530.00 or nothing
    product = replace(PRODUCT, pharmacy_codes={"org-ph1": "PH0001"})
    line = drug_line("1", "L01FF02", "17900.00", diagnosis="C34.1")
    b = bill(fulamt_ownpay_amt="17900.00", lines=[line], med_type="41", hospital_id=settled_by, pharmacy=True)
    assert adjudicate(product, b, Usage(), pre_existing=False).payout == D(paid)
    inpatient = bill(inscp_scp_amt="100.00", hospital_id=settled_by, pharmacy=True)
    assert [p.field for p in bill_problems(inpatient)] == ["med_type"]  # a pharmacy settles purchases only


def test_the_liabilities_left_out_by_insurance_type_are_named_in_product_order() -> None:
    data = sample_product().raw
    liabilities = [dict(li) for li in data["liabilities"]]
    for li in liabilities:
        if li["code"] in ("outlist", "special_drug"):
            li["insutypes"] = ["390"]
    product = sample_product(liabilities=liabilities)
    b = bill(inscp_scp_amt="40000.00", fulamt_ownpay_amt="10000.00", hifp_pay="24000.00", insutype="310")
    r = adjudicate(product, b, Usage({"annual": D("15000.00")}), pre_existing=False)
    (why,) = [n for n in r.not_paid if n.code == "insutype_not_covered"]
    assert why.message == (
        "险种类型 310 不适用责任 outlist, special_drug / insutype 310 is not covered by outlist, special_drug"
    )
    assert liability_codes(r) == ["inlist"]
