"""Adjudication of one settlement record against a product: pure, exact to the fen.

Default semantics (a product may override a liability's basis):
- only the liabilities whose visit types (`med_types`) include the bill's `med_type` apply; the others
  neither pay nor consume a deductible;
- in-list amount the patient still bears = inscp_scp_amt + preselfpay_amt − the public funds that pay before
  the product in its payer order (hifp_pay, hifmi_pay, hifob_pay, maf_pay), − act_pay_dedc when the
  liability excludes the BMI deductible, never below zero;
- out-of-list = fulamt_ownpay_amt, less the special-drug lines a special-drug liability accepts (see
  `drugs`); over-limit self-pay (overlmt_selfpay) is not covered;
- liabilities are taken in the product's order; a shared deductible is consumed in that order; each
  liability's payout is its amount after the deductible times the ratio of its table for the bill's
  conditions (pre-existing, not settled through BMI), rounded to the fen (half up by default), then cut to
  its cap, the overall cap (liabilities inside it only) and what is left of the patient's cash share.

Invariant: public funds + other funds + personal account + this payout + the patient's cash == medfee_sumamt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from jinyu.claim.rules.bill import (
    PUBLIC_FUND_FIELDS,
    Bill,
    BillLine,
    Reason,
    bill_problems,
)
from jinyu.claim.rules.drugs import DrugLines, special_drugs
from jinyu.claim.rules.product import (
    FEN,
    MONEY_FIELDS,
    ROUNDING_MODES,
    ZERO,
    DeductiblePeriod,
    InsurerShare,
    Liability,
    LiabilityKind,
    Product,
    insutype_matches,
    med_type_matches,
)

__all__ = [
    "MONEY_FIELDS",
    "PUBLIC_FUND_FIELDS",
    "Adjudication",
    "Bill",
    "BillLine",
    "LiabilityOutcome",
    "Reason",
    "Usage",
    "adjudicate",
    "bill_problems",
    "invariant_holds",
    "is_pre_existing",
    "split_shares",
]


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
class LiabilityOutcome:
    code: str
    name: str
    kind: LiabilityKind
    basis: Decimal  # what the liability covers in this bill before the deductible
    deductible_pool: str | None
    deductible_applied: Decimal
    ratio: Decimal
    ratio_kind: str  # standard | pre_existing | non_bmi | pre_existing_non_bmi
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
    policy_year: int = 0  # the policy year whose accumulators `before` and `after` are


def is_pre_existing(conditions: Sequence[str], diagnoses: Sequence[str]) -> bool:
    """A claim is for a pre-existing condition when a diagnosis falls under one the person was flagged with.

    Conditions are ICD-10 codes or prefixes; "*" flags every claim of the person."""
    conds = [c.strip().upper() for c in conditions if c.strip()]
    if "*" in conds:
        return True
    return any(d.strip().upper().startswith(c) for c in conds for d in diagnoses)


_RATIO_LABELS = {
    "standard": "",
    "pre_existing": "（既往症）",
    "non_bmi": "（未经医保结算）",
    "pre_existing_non_bmi": "（既往症且未经医保结算）",
}


def _round(value: Decimal, mode: str) -> Decimal:
    return value.quantize(FEN, rounding=ROUNDING_MODES[mode])


def _basis(product: Product, li: Liability, bill: Bill, drugs: DrugLines) -> Decimal:
    if li.kind == LiabilityKind.SPECIAL_DRUG:
        return drugs.eligible.get(li.code, ZERO)
    if li.basis is not None:
        add, subtract = li.basis.add, li.basis.subtract
    elif li.kind == LiabilityKind.INLIST_INPATIENT:
        add, subtract = ("inscp_scp_amt", "preselfpay_amt"), product.public_fund_fields
    else:  # OUTLIST (OTHER always has a basis)
        add, subtract = ("fulamt_ownpay_amt",), ()
    amount = sum((bill.amount(f) for f in add), ZERO) - sum((bill.amount(f) for f in subtract), ZERO)
    if li.kind == LiabilityKind.INLIST_INPATIENT and li.basis is None and not li.bmi_deductible_covered:
        amount -= bill.act_pay_dedc
    if li.kind == LiabilityKind.OUTLIST:
        amount -= drugs.carved
    return max(amount, ZERO)


def _insutype_reasons(by_visit: list[Liability], applicable: list[Liability], bill: Bill) -> list[Reason]:
    """Why liabilities of this visit type did not apply: the bill's insurance type is not theirs (or unsaid)."""
    left_out = [li.code for li in by_visit if li not in applicable]
    if not left_out:
        return []
    if bill.insutype is None:
        return [
            Reason(
                "insutype_missing",
                f"未提供险种类型，限定险种的责任 {', '.join(left_out)} 不适用 / insutype not sent: liabilities "
                f"limited to insurance types ({', '.join(left_out)}) do not apply",
                ZERO,
            )
        ]
    return [
        Reason(
            "insutype_not_covered",
            f"险种类型 {bill.insutype} 不适用责任 {', '.join(left_out)} / insutype {bill.insutype} is not covered "
            f"by {', '.join(left_out)}",
            ZERO,
        )
    ]


def adjudicate(product: Product, bill: Bill, before: Usage, *, pre_existing: bool) -> Adjudication:
    """Compute the payout of one bill; `before` is the person's usage in the bill's policy year (see
    `Product.policy_year_of`). Bill must be valid."""
    drugs = special_drugs(product, bill)
    by_visit = [li for li in product.liabilities if med_type_matches(li.med_types, bill.med_type)]
    applicable = [li for li in by_visit if insutype_matches(li.insutypes, bill.insutype)]
    pools = {d.code: d for d in product.deductibles}
    used = {code: before.deductible_used.get(code, ZERO) for code, d in pools.items()}
    claim_used = dict.fromkeys(pools, ZERO)  # per-claim pools start afresh
    paid = {li.code: before.liability_paid.get(li.code, ZERO) for li in product.liabilities}
    overall = before.overall_paid
    cash_left = bill.cash_before
    outcomes: list[LiabilityOutcome] = []
    for li in applicable:
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
        ratio, ratio_kind = li.ratios.pick(pre_existing=pre_existing, non_bmi=not bill.bmi_settled)
        computed = _round(after_deductible * ratio, product.rounding)
        if after_deductible - computed > 0:
            label = _RATIO_LABELS[ratio_kind]
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
        room = max(product.overall_cap - overall, ZERO) if li.in_overall_cap else payout
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
        if li.in_overall_cap:
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
    not_paid.extend(_insutype_reasons(by_visit, applicable, bill))
    if not applicable and bill.cash_before:
        not_paid.append(
            Reason(
                "med_type_not_covered",
                f"本产品不保障医疗类别 {bill.med_type} / no liability of this product covers med_type "
                f"{bill.med_type}",
                bill.cash_before,
            )
        )
    covers_overlimit = any(li.basis is not None and "overlmt_selfpay" in li.basis.add for li in applicable)
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
        policy_year=product.policy_year_of(bill.day) if bill.day else product.year,
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
