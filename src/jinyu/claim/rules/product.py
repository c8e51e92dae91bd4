"""A product's rules as data (parsed and validated by `rules.parse`).

A product is (city, year, edition, insurer or co-insurers) plus its liabilities. Each liability names the
part of a bill it covers (its *basis*), the deductible pool it draws on, its payout ratios and its cap.
Deductible pools are named: a pool referenced by several liabilities is *shared* (consumed in the order the
liabilities are listed), a pool referenced by one is *separate*.

Stdlib only: values in, values out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

FEN = Decimal("0.01")
ONE = Decimal("1")
ZERO = Decimal("0.00")


class LiabilityKind(StrEnum):
    INLIST_INPATIENT = "inlist_inpatient"  # 医保目录内住院费用：基本医保等支付后个人负担部分
    OUTLIST = "outlist"  # 医保目录外（全自费）费用
    SPECIAL_DRUG = "special_drug"  # 特定高额药品（特药）
    OTHER = "other"  # 其他：按配置的结算字段计算


class Payer(StrEnum):
    BMI = "bmi"  # 基本医疗保险统筹基金 hifp_pay
    SERIOUS_ILLNESS = "serious_illness"  # 大病保险 hifmi_pay
    LARGE_AMOUNT = "large_amount"  # 大额医疗费用补助 hifob_pay
    MEDICAL_ASSISTANCE = "medical_assistance"  # 医疗救助 maf_pay
    PRODUCT = "product"  # 本产品


# The settlement-record field each public payer pays through.
PAYER_FIELD: dict[Payer, str] = {
    Payer.BMI: "hifp_pay",
    Payer.SERIOUS_ILLNESS: "hifmi_pay",
    Payer.LARGE_AMOUNT: "hifob_pay",
    Payer.MEDICAL_ASSISTANCE: "maf_pay",
}

# Fields of the settlement record a liability's basis may add or subtract.
BILL_FIELDS = frozenset(
    {
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
    }
)

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


class DeductiblePeriod(StrEnum):
    POLICY_YEAR = "policy_year"  # accumulates over the policy year
    PER_CLAIM = "per_claim"  # applies afresh to every settlement


@dataclass(frozen=True)
class InsurerShare:
    org_code: str
    share: Decimal
    lead: bool
    org_id: str | None = None  # resolved by the service when the product is stored


@dataclass(frozen=True)
class Deductible:
    code: str
    amount: Decimal
    period: DeductiblePeriod


@dataclass(frozen=True)
class Ratios:
    default: Decimal
    pre_existing: Decimal
    non_bmi: Decimal  # the bill was not settled through the local basic medical insurance


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    indications: tuple[str, ...]  # ICD-10 codes or prefixes (C34 covers C34.1)


@dataclass(frozen=True)
class Basis:
    add: tuple[str, ...]
    subtract: tuple[str, ...]


@dataclass(frozen=True)
class Liability:
    code: str
    kind: LiabilityKind
    name: str
    deductible: str | None  # pool code
    ratios: Ratios
    cap: Decimal | None
    basis: Basis | None = None  # None: the kind's default (see adjudicate)
    drugs: tuple[Drug, ...] = ()
    designated_pharmacies: tuple[str, ...] = ()
    hospital_dispensing: bool = True
    carve_out: bool = True  # special drugs: listed drugs are paid only here, never as out-of-list costs


@dataclass(frozen=True)
class Product:
    code: str
    version: int
    name: str
    city: str
    year: int
    edition: str
    period_start: dt.date
    period_end: dt.date
    premium: Decimal
    insurers: tuple[InsurerShare, ...]
    payer_order: tuple[Payer, ...]
    rounding: str
    deductibles: tuple[Deductible, ...]
    liabilities: tuple[Liability, ...]
    overall_cap: Decimal
    name_en: str = ""
    interim_settlements: bool = False  # several active settlements of one hospital visit (中途结算)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def lead(self) -> InsurerShare:
        return next(i for i in self.insurers if i.lead)

    def deductible(self, code: str) -> Deductible:
        return next(d for d in self.deductibles if d.code == code)

    def covers(self, day: dt.date) -> bool:
        return self.period_start <= day <= self.period_end

    @property
    def public_fund_fields(self) -> tuple[str, ...]:
        """Settlement fields of the public payers that pay before this product (the payer order)."""
        before = self.payer_order[: self.payer_order.index(Payer.PRODUCT)]
        return tuple(PAYER_FIELD[p] for p in before if p in PAYER_FIELD)

    def definition_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.raw).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
