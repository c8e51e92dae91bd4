"""Golden cases of the adjudication engine on the shipped sample product (deductible 20,000 shared by in-list
and out-of-list costs, 70 % / 30 % pre-existing / 35 % not settled through BMI, special drugs without
deductible, caps: in-list 2 M, out-of-list 1 M, special drugs 1 M, overall 2 M)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jinyu.claim.rules.adjudicate import (
    Usage,
    adjudicate,
    bill_problems,
    invariant_holds,
    is_pre_existing,
    split_shares,
)
from jinyu.claim.rules.product import InsurerShare
from tests.claim.factories import D, bill, drug_line, sample_product

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


def test_special_drug_outside_its_indication_is_not_paid_anywhere() -> None:
    line = drug_line("1", "L01FF02", "30000.00")  # pembrolizumab: lung, melanoma, ... not breast cancer
    b = bill(fulamt_ownpay_amt="30000.00", diagnoses=["C50.9"], lines=[line])
    r = adjudicate(PRODUCT, b, Usage({"annual": D("20000.00")}), pre_existing=False)
    assert by_code(r, "special_drug").payout == 0
    assert by_code(r, "outlist").basis == 0  # listed drugs are paid only as special drugs
    assert [(n.code, n.amount, n.line_sn) for n in r.not_paid] == [
        ("drug_outside_indication", D("30000.00"), "1")
    ]
    assert r.payout == 0 and invariant_holds(b, r)


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
    assert r.not_paid[0].code == "pharmacy_not_designated"
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
    # with a pre-existing condition too, the lowest ratio applies
    r2 = adjudicate(PRODUCT, b, Usage(), pre_existing=True)
    assert by_code(r2, "inlist").ratio == D("0.30")


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
            "ratios": {"default": "0.50"},
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
