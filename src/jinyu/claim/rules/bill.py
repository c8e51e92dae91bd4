"""A settlement record (setlinfo) and its itemised lines as the rules see them, and why one does not add up.

Stdlib only: values in, values out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from jinyu.claim.rules.product import DEFAULT_MED_TYPE, FEN, MONEY_FIELDS, PHARMACY_MED_TYPE, ZERO
from jinyu.core.errors import FieldError

PUBLIC_FUND_FIELDS = ("hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay")


@dataclass(frozen=True)
class BillLine:
    """One itemized line (费用明细): feedetl_sn, med_list_codg and the line's split of its amount."""

    sn: str
    code: str
    name: str
    total: Decimal  # det_item_fee_sumamt
    ownpay: Decimal  # fulamt_ownpay_amt
    overlmt: Decimal = ZERO  # overlmt_amt
    preselfpay: Decimal = ZERO  # preselfpay_amt
    inscp: Decimal = ZERO  # inscp_scp_amt
    pharmacy_code: str | None = None  # dispensed by a pharmacy rather than the hospital
    diagnosis: str | None = (
        None  # the ICD-10 code this line treats (a drug line's indication is checked on it)
    )
    special_drug: bool = False  # the hospital asks the special-drug benefit for this line


@dataclass(frozen=True)
class Bill:
    """The national settlement record (setlinfo) of one discharge, with the visit's diagnoses."""

    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    hifp_pay: Decimal = ZERO
    hifmi_pay: Decimal = ZERO
    hifob_pay: Decimal = ZERO
    maf_pay: Decimal = ZERO
    oth_pay: Decimal = ZERO
    acct_pay: Decimal = ZERO
    psn_cash_pay: Decimal | None = None
    bmi_settled: bool = True
    diagnoses: tuple[str, ...] = ()
    lines: tuple[BillLine, ...] = ()
    med_type: str = DEFAULT_MED_TYPE  # NHSA 医疗类别: picks the liabilities that apply
    insutype: str | None = None  # NHSA 险种类型: liabilities limited to insurance types apply only to those
    act_pay_dedc: Decimal = ZERO  # BMI deductible (起付线) the patient actually paid, part of inscp_scp_amt
    lines_complete: bool = True  # the lines itemise the whole bill (False: some lines only, e.g. the drugs)
    day: dt.date | None = None  # the settlement's date (Asia/Shanghai): picks the policy year
    hospital_id: str | None = None  # the settling hospital or pharmacy (org id): it dispensed lines without
    # a pharmacy code
    pharmacy: bool = False  # settled by a pharmacy (a purchase), not a hospital

    def amount(self, name: str) -> Decimal:
        value: Decimal = getattr(self, name)
        return value

    # Worked out once per bill (the bill is frozen): a settlement reads them about fifteen times, and summing
    # the fields anew each time was ~3 % of the settling thread's CPU (docs/claims.md, issue 20, branch h-bf).
    @cached_property
    def funds(self) -> Decimal:
        return sum((self.amount(f) for f in (*PUBLIC_FUND_FIELDS, "oth_pay")), ZERO)

    @cached_property
    def cash_before(self) -> Decimal:
        """The patient's cash share before this product: what no fund and no personal account paid."""
        return self.medfee_sumamt - self.funds - self.acct_pay


def bill_problems(bill: Bill) -> list[FieldError]:
    """Why a settlement record does not add up; empty when it does."""
    problems: list[FieldError] = []
    for name in MONEY_FIELDS:
        value = bill.amount(name)
        if value < 0 or value != value.quantize(FEN):
            problems.append(FieldError(name, "金额须为非负且精确到分 / must be non-negative, in fen"))
    if problems:
        return problems
    parts = bill.fulamt_ownpay_amt + bill.overlmt_selfpay + bill.preselfpay_amt + bill.inscp_scp_amt
    if parts != bill.medfee_sumamt:
        problems.append(
            FieldError(
                "medfee_sumamt",
                f"总费用 {bill.medfee_sumamt} ≠ 全自费+超限价+先行自付+符合范围 {parts} / "
                "must equal fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt",
            )
        )
    if bill.cash_before < 0:
        problems.append(
            FieldError(
                "medfee_sumamt", "基金与个人账户支付之和超过总费用 / funds and account exceed the total"
            )
        )
    if bill.psn_cash_pay is not None and bill.psn_cash_pay != bill.cash_before:
        problems.append(
            FieldError(
                "psn_cash_pay",
                f"个人现金 {bill.psn_cash_pay} ≠ 总费用−基金−个人账户 {bill.cash_before} / "
                "must equal medfee_sumamt − funds − acct_pay",
            )
        )
    if bill.act_pay_dedc > bill.inscp_scp_amt:
        problems.append(
            FieldError(
                "act_pay_dedc",
                f"实际支付起付线 {bill.act_pay_dedc} 超过符合范围金额 {bill.inscp_scp_amt} / "
                "the BMI deductible paid is part of inscp_scp_amt and cannot exceed it",
            )
        )
    if bill.pharmacy and not bill.med_type.startswith(PHARMACY_MED_TYPE):
        problems.append(
            FieldError(
                "med_type",
                f"药店只能结算定点药店购药（{PHARMACY_MED_TYPE}）/ a pharmacy settles med_type "
                f"{PHARMACY_MED_TYPE} purchases only",
            )
        )
    if not bill.bmi_settled and any(bill.amount(f) for f in PUBLIC_FUND_FIELDS):
        problems.append(
            FieldError(
                "bmi_settled", "未经医保结算的账单不能有基金支付 / a bill not settled by BMI has no fund pay"
            )
        )
    problems.extend(_line_problems(bill))
    return problems


def _line_problems(bill: Bill) -> list[FieldError]:
    if not bill.lines:
        return []
    problems: list[FieldError] = []
    seen: set[str] = set()
    for n, line in enumerate(bill.lines):
        if line.sn in seen:
            problems.append(FieldError(f"lines[{n}].feedetl_sn", "明细流水号重复 / duplicate line number"))
        seen.add(line.sn)
        if line.ownpay + line.overlmt + line.preselfpay + line.inscp != line.total:
            problems.append(
                FieldError(
                    f"lines[{n}].det_item_fee_sumamt",
                    "明细金额 ≠ 全自费+超限价+先行自付+符合范围 / line total must equal the sum of its parts",
                )
            )
    for total_field, attr in (
        ("medfee_sumamt", "total"),
        ("fulamt_ownpay_amt", "ownpay"),
        ("overlmt_selfpay", "overlmt"),
        ("preselfpay_amt", "preselfpay"),
        ("inscp_scp_amt", "inscp"),
    ):
        lines_sum = sum((getattr(line, attr) for line in bill.lines), ZERO)
        if bill.lines_complete and lines_sum != bill.amount(total_field):
            problems.append(
                FieldError(
                    total_field,
                    f"明细合计 {lines_sum} ≠ 结算单 {bill.amount(total_field)} / lines do not add up",
                )
            )
        elif lines_sum > bill.amount(total_field):
            problems.append(
                FieldError(
                    total_field,
                    f"部分明细合计 {lines_sum} 超过结算单 {bill.amount(total_field)} / "
                    "the lines given exceed the record's total",
                )
            )
    return problems


@dataclass(frozen=True)
class Reason:
    """Why (part of) an amount was not paid, in both languages, with the amount and the line if any."""

    code: str
    message: str
    amount: Decimal
    line_sn: str | None = None
