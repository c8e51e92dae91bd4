"""Special drugs (特药): which drug lines a special-drug liability accepts, and which leave the out-of-list base.

A drug line is accepted by the special-drug liability that lists its code when that liability applies to the
visit type, the line's diagnosis (or, when the line names none, one of the visit's) falls under one of the
drug's indications (ICD-10 prefix), and it was dispensed through one of the drug's channels: a named hospital
(or any hospital) for lines the settling hospital dispensed, a named pharmacy for lines with a pharmacy code.

Format 2: only accepted lines leave the out-of-list base (when the liability carves out); a refused line stays
in it and is reported with its reason. Format 1 products keep their original reading: every line of a listed
drug leaves the out-of-list base, accepted or not.

Stdlib only: values in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from jinyu.claim.rules.bill import Bill, BillLine, Reason
from jinyu.claim.rules.product import (
    ANY,
    ZERO,
    Drug,
    Liability,
    LiabilityKind,
    Product,
    med_type_matches,
)


@dataclass
class DrugLines:
    eligible: dict[str, Decimal] = field(default_factory=dict)  # liability code -> accepted amount
    carved: Decimal = ZERO  # taken out of the out-of-list basis
    refused: list[Reason] = field(default_factory=list)  # one per refused line, with its reason


def special_drugs(product: Product, bill: Bill) -> DrugLines:
    result = DrugLines()
    listed: dict[str, tuple[Liability, Drug]] = {}
    for li in product.liabilities:
        if li.kind == LiabilityKind.SPECIAL_DRUG:
            result.eligible[li.code] = ZERO
            listed.update({d.code: (li, d) for d in li.drugs})
    for line in bill.lines:
        if line.ownpay == 0:
            continue
        found = listed.get(line.code)
        if found is None:
            if line.special_drug:
                result.refused.append(_not_listed(line))
            continue
        li, drug = found
        why = _refusal(product, li, drug, bill, line)
        if why is None:
            result.eligible[li.code] += line.ownpay
            if li.carve_out:
                result.carved += line.ownpay
            continue
        result.refused.append(why)
        if li.carve_out and li.carve_refused:  # format 1
            result.carved += line.ownpay
    return result


def _not_listed(line: BillLine) -> Reason:
    return Reason(
        "drug_not_listed",
        f"“{line.name or line.code}”不在特药清单，按目录外费用计算 / {line.code} is not a listed special "
        "drug; it stays an out-of-list cost",
        line.ownpay,
        line.sn,
    )


def _refusal(product: Product, li: Liability, drug: Drug, bill: Bill, line: BillLine) -> Reason | None:
    stays = "" if li.carve_refused else "；按目录外费用计算 / it stays an out-of-list cost"
    if not med_type_matches(li.med_types, bill.med_type):
        return Reason(
            "drug_med_type_not_covered",
            f"特药“{drug.name}”在此医疗类别 {bill.med_type} 不予赔付{stays} / special drug {drug.code} is not "
            f"covered for med_type {bill.med_type}",
            line.ownpay,
            line.sn,
        )
    diagnoses = [line.diagnosis] if line.diagnosis else list(bill.diagnoses)
    if not any(d.strip().upper().startswith(ind) for ind in drug.indications for d in diagnoses):
        return Reason(
            "drug_outside_indication",
            f"特药“{drug.name}”超出适应症范围{stays} / special drug {drug.code} used outside its indications "
            f"({', '.join(drug.indications)})",
            line.ownpay,
            line.sn,
        )
    if not _channel_designated(product, li, drug, bill, line):
        org = bill.hospital_id or ""
        where = (
            line.pharmacy_code or product.pharmacy_codes.get(org) or product.hospital_codes.get(org) or org
        )
        return Reason(
            "channel_not_designated",
            f"特药“{drug.name}”非指定渠道发药（{where}）{stays} / special drug {drug.code} not dispensed "
            "through a designated pharmacy or hospital",
            line.ownpay,
            line.sn,
        )
    return None


def _channel_designated(product: Product, li: Liability, drug: Drug, bill: Bill, line: BillLine) -> bool:
    """A line with a pharmacy code was dispensed by that pharmacy; any other by the settling organisation: a
    pharmacy (its org code) or a hospital (its org code, or any hospital for `"*"`). Organisations are known to
    the product by code (`Product.pharmacy_codes` / `hospital_codes`: the named ones only)."""
    if line.pharmacy_code:
        return line.pharmacy_code in li.drug_pharmacies(drug)
    if bill.pharmacy:
        return product.pharmacy_codes.get(bill.hospital_id or "") in li.drug_pharmacies(drug)
    hospitals = li.drug_hospitals(drug)
    return ANY in hospitals or product.hospital_codes.get(bill.hospital_id or "") in hospitals
