"""Adjudication of one inpatient settlement record against a product: pure, exact to the fen.

Default semantics (a product may override a liability's basis):
- in-list amount the patient still bears = inscp_scp_amt + preselfpay_amt − the public funds that pay before
  the product in its payer order (hifp_pay, hifmi_pay, hifob_pay, maf_pay), never below zero;
- out-of-list = fulamt_ownpay_amt, less the listed special drugs (paid only under the special-drug liability);
  over-limit self-pay (overlmt_selfpay) is not covered;
- special drugs: each line of a listed drug, if a diagnosis of the visit is one of the drug's indications and
  it was dispensed by the hospital (when allowed) or a designated pharmacy: its out-of-list amount;
- liabilities are taken in the product's order; a shared deductible is consumed in that order; each
  liability's payout is its amount after the deductible times its ratio, rounded to the fen (half up by
  default), then cut to its cap, the overall cap and what is left of the patient's cash share.

Invariant: public funds + other funds + personal account + this payout + the patient's cash == medfee_sumamt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from jinyu.claim.rules.product import (
    FEN,
    ROUNDING_MODES,
    ZERO,
    DeductiblePeriod,
    InsurerShare,
    Liability,
    LiabilityKind,
    Product,
)
from jinyu.core.errors import FieldError

MONEY_FIELDS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "hifp_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "acct_pay",
)
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

    def amount(self, name: str) -> Decimal:
        value: Decimal = getattr(self, name)
        return value

    @property
    def funds(self) -> Decimal:
        return sum((self.amount(f) for f in (*PUBLIC_FUND_FIELDS, "oth_pay")), ZERO)

    @property
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
        if lines_sum != bill.amount(total_field):
            problems.append(
                FieldError(
                    total_field,
                    f"明细合计 {lines_sum} ≠ 结算单 {bill.amount(total_field)} / lines do not add up",
                )
            )
    return problems


@dataclass(frozen=True)
class Usage:
    """A person's accumulators in one policy year: deductible used per pool, paid per liability and overall."""

    deductible_used: Mapping[str, Decimal] = field(default_factory=dict)
    liability_paid: Mapping[str, Decimal] = field(default_factory=dict)
    overall_paid: Decimal = ZERO

    def minus(self, other: Usage) -> Usage:
        return Usage(
            {k: v - other.deductible_used.get(k, ZERO) for k, v in self.deductible_used.items()},
            {k: v - other.liability_paid.get(k, ZERO) for k, v in self.liability_paid.items()},
            self.overall_paid - other.overall_paid,
        )


@dataclass(frozen=True)
class Reason:
    """Why (part of) an amount was not paid, in both languages, with the amount and the line if any."""

    code: str
    message: str
    amount: Decimal
    line_sn: str | None = None


@dataclass(frozen=True)
class LiabilityOutcome:
    code: str
    name: str
    kind: LiabilityKind
    basis: Decimal  # what the liability covers in this bill before the deductible
    deductible_pool: str | None
    deductible_applied: Decimal
    ratio: Decimal
    ratio_kind: str  # default | pre_existing | non_bmi
    computed: Decimal  # (basis − deductible) × ratio, rounded
    payout: Decimal  # after caps and the cash-share limit
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Adjudication:
    cash_before: Decimal
    payout: Decimal
    cash_after: Decimal
    liabilities: tuple[LiabilityOutcome, ...]
    not_paid: tuple[Reason, ...]  # bill-level: costs no liability covers, special-drug lines refused
    before: Usage
    after: Usage
    consumed: Usage  # after − before (policy-year pools only)
    pre_existing: bool


def is_pre_existing(conditions: Sequence[str], diagnoses: Sequence[str]) -> bool:
    """A claim is for a pre-existing condition when a diagnosis falls under one the person was flagged with.

    Conditions are ICD-10 codes or prefixes; "*" flags every claim of the person."""
    conds = [c.strip().upper() for c in conditions if c.strip()]
    if "*" in conds:
        return True
    return any(d.strip().upper().startswith(c) for c in conds for d in diagnoses)


def _round(value: Decimal, mode: str) -> Decimal:
    return value.quantize(FEN, rounding=ROUNDING_MODES[mode])


@dataclass
class _Drugs:
    eligible: dict[str, Decimal]  # liability code -> amount
    carved: Decimal  # listed-drug amounts out of the out-of-list basis
    refused: list[Reason]


def _special_drugs(product: Product, bill: Bill) -> _Drugs:
    result = _Drugs({}, ZERO, [])
    diagnoses = [d.strip().upper() for d in bill.diagnoses]
    for li in product.liabilities:
        if li.kind != LiabilityKind.SPECIAL_DRUG:
            continue
        by_code = {d.code: d for d in li.drugs}
        total = ZERO
        for line in bill.lines:
            drug = by_code.get(line.code)
            if drug is None or line.ownpay == 0:
                continue
            if li.carve_out:
                result.carved += line.ownpay
            if not any(d.startswith(ind) for ind in drug.indications for d in diagnoses):
                result.refused.append(
                    Reason(
                        "drug_outside_indication",
                        f"特药“{drug.name}”超出适应症范围 / special drug {drug.code} used outside its indications "
                        f"({', '.join(drug.indications)})",
                        line.ownpay,
                        line.sn,
                    )
                )
                continue
            if not _dispensed_where_allowed(li, line):
                result.refused.append(
                    Reason(
                        "pharmacy_not_designated",
                        f"特药“{drug.name}”非定点药店或医院发药 / special drug {drug.code} not dispensed by a "
                        "designated pharmacy",
                        line.ownpay,
                        line.sn,
                    )
                )
                continue
            total += line.ownpay
        result.eligible[li.code] = total
    return result


def _dispensed_where_allowed(li: Liability, line: BillLine) -> bool:
    if line.pharmacy_code:
        return line.pharmacy_code in li.designated_pharmacies
    return li.hospital_dispensing


def _basis(product: Product, li: Liability, bill: Bill, drugs: _Drugs) -> Decimal:
    if li.kind == LiabilityKind.SPECIAL_DRUG:
        return drugs.eligible.get(li.code, ZERO)
    if li.basis is not None:
        add, subtract = li.basis.add, li.basis.subtract
    elif li.kind == LiabilityKind.INLIST_INPATIENT:
        add, subtract = ("inscp_scp_amt", "preselfpay_amt"), product.public_fund_fields
    else:  # OUTLIST (OTHER always has a basis)
        add, subtract = ("fulamt_ownpay_amt",), ()
    amount = sum((bill.amount(f) for f in add), ZERO) - sum((bill.amount(f) for f in subtract), ZERO)
    if li.kind == LiabilityKind.OUTLIST:
        amount -= drugs.carved
    return max(amount, ZERO)


def _ratio(li: Liability, bill: Bill, pre_existing: bool) -> tuple[Decimal, str]:
    """The lowest of the ratios that apply: default, pre-existing condition, bill not settled through BMI."""
    candidates = [(li.ratios.default, "default")]
    if pre_existing:
        candidates.append((li.ratios.pre_existing, "pre_existing"))
    if not bill.bmi_settled:
        candidates.append((li.ratios.non_bmi, "non_bmi"))
    return min(candidates, key=lambda c: c[0])


def adjudicate(product: Product, bill: Bill, before: Usage, *, pre_existing: bool) -> Adjudication:
    """Compute the payout of one bill; `before` is the person's policy-year usage. Bill must be valid."""
    drugs = _special_drugs(product, bill)
    pools = {d.code: d for d in product.deductibles}
    used = {code: before.deductible_used.get(code, ZERO) for code, d in pools.items()}
    claim_used = dict.fromkeys(pools, ZERO)  # per-claim pools start afresh
    paid = {li.code: before.liability_paid.get(li.code, ZERO) for li in product.liabilities}
    overall = before.overall_paid
    cash_left = bill.cash_before
    outcomes: list[LiabilityOutcome] = []
    for li in product.liabilities:
        basis = _basis(product, li, bill, drugs)
        reasons: list[Reason] = []
        applied = ZERO
        if li.deductible is not None:
            pool = pools[li.deductible]
            already = (
                used[pool.code] if pool.period == DeductiblePeriod.POLICY_YEAR else claim_used[pool.code]
            )
            applied = min(max(pool.amount - already, ZERO), basis)
            if pool.period == DeductiblePeriod.POLICY_YEAR:
                used[pool.code] += applied
            else:
                claim_used[pool.code] += applied
            if applied:
                reasons.append(
                    Reason("deductible", f"免赔额“{pool.code}”抵扣 / deductible {pool.code} applied", applied)
                )
        after_deductible = basis - applied
        ratio, ratio_kind = _ratio(li, bill, pre_existing)
        computed = _round(after_deductible * ratio, product.rounding)
        if after_deductible - computed > 0:
            label = {"default": "", "pre_existing": "（既往症）", "non_bmi": "（未经医保结算）"}[ratio_kind]
            reasons.append(
                Reason(
                    "coinsurance",
                    f"按 {ratio:.0%} 比例赔付{label}，个人自付部分 / paid at {ratio:.0%} ({ratio_kind}); the rest "
                    "is the patient's share",
                    after_deductible - computed,
                )
            )
        payout = computed
        if li.cap is not None:
            room = max(li.cap - paid[li.code], ZERO)
            if payout > room:
                reasons.append(
                    Reason(
                        "liability_cap",
                        f"达到责任限额 {li.cap} / liability cap {li.cap} reached",
                        payout - room,
                    )
                )
                payout = room
        room = max(product.overall_cap - overall, ZERO)
        if payout > room:
            reasons.append(
                Reason(
                    "overall_cap",
                    f"达到年度总限额 {product.overall_cap} / overall cap {product.overall_cap} reached",
                    payout - room,
                )
            )
            payout = room
        if payout > cash_left:
            reasons.append(
                Reason(
                    "cash_share_limit",
                    "赔付以个人现金负担为限 / payout limited to the patient's remaining cash share",
                    payout - cash_left,
                )
            )
            payout = cash_left
        paid[li.code] += payout
        overall += payout
        cash_left -= payout
        outcomes.append(
            LiabilityOutcome(
                code=li.code,
                name=li.name,
                kind=li.kind,
                basis=basis,
                deductible_pool=li.deductible,
                deductible_applied=applied,
                ratio=ratio,
                ratio_kind=ratio_kind,
                computed=computed,
                payout=payout,
                reasons=tuple(reasons),
            )
        )
    not_paid = list(drugs.refused)
    covers_overlimit = any(
        li.basis is not None and "overlmt_selfpay" in li.basis.add for li in product.liabilities
    )
    if bill.overlmt_selfpay and not covers_overlimit:
        not_paid.append(
            Reason(
                "over_limit_not_covered",
                "超限价自付费用不在保障范围 / over-limit self-pay is not covered",
                bill.overlmt_selfpay,
            )
        )
    after = Usage(
        {c: used[c] for c, d in pools.items() if d.period == DeductiblePeriod.POLICY_YEAR},
        paid,
        overall,
    )
    before_norm = Usage(
        {c: before.deductible_used.get(c, ZERO) for c in after.deductible_used},
        {c: before.liability_paid.get(c, ZERO) for c in paid},
        before.overall_paid,
    )
    total = sum((o.payout for o in outcomes), ZERO)
    return Adjudication(
        cash_before=bill.cash_before,
        payout=total,
        cash_after=bill.cash_before - total,
        liabilities=tuple(outcomes),
        not_paid=tuple(not_paid),
        before=before_norm,
        after=after,
        consumed=after.minus(before_norm),
        pre_existing=pre_existing,
    )


def invariant_holds(bill: Bill, result: Adjudication) -> bool:
    """All funds + personal account + this payout + the patient's cash == medfee_sumamt, to the fen."""
    return (
        bill.funds + bill.acct_pay + result.payout + result.cash_after == bill.medfee_sumamt
        and result.cash_after >= 0
        and result.payout >= 0
    )


def split_shares(amount: Decimal, insurers: Sequence[InsurerShare]) -> dict[str, Decimal]:
    """Split an amount among co-insurers by share, exact to the fen (largest remainder; ties to the lead)."""
    fen = int((amount / FEN).to_integral_value())
    raw = [(i, Decimal(fen) * i.share) for i in insurers]
    floors = {i.org_code: int(v.to_integral_value(rounding=ROUND_DOWN)) for i, v in raw}
    left = fen - sum(floors.values())
    order = sorted(raw, key=lambda p: (-(p[1] - floors[p[0].org_code]), not p[0].lead))
    for i, _ in order[:left]:
        floors[i.org_code] += 1
    return {code: Decimal(n) * FEN for code, n in floors.items()}
