"""A product's rules as data (parsed and validated by `rules.parse`).

A product is (city, year, edition, insurer or co-insurers) plus its liabilities. Each liability names the
part of a bill it covers (its *basis*), the deductible pool it draws on, its payout ratios and its cap.
Deductible pools are named: a pool referenced by several liabilities is *shared* (consumed in the order the
liabilities are listed), a pool referenced by one is *separate*.

Two definition formats (`format`): 1 (no `format` key: products stored before format 2) is read with its
original semantics — every liability applies to every visit type and counts toward the overall cap, the
lowest applicable ratio is taken (written out here as the equivalent ratio table), and every line of a listed
special drug leaves the out-of-list base even when the special-drug liability refuses it. Format 2 writes
all of these out: visit types, cap membership, a full ratio table, per-drug channels, per-line diagnoses.

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

# The settlement record's money fields, in the order bills are checked; a liability's basis may add or subtract
# any of them.
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
    "act_pay_dedc",
)
BILL_FIELDS = frozenset(MONEY_FIELDS)

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


# NHSA medical categories (医疗类别 med_type, national dictionary). Provinces extend them with longer codes
# that start with the national category they refine (2101 普通住院 subtype, 140104 门诊慢病) or with 99
# (local categories). A liability listing "21" applies to 21 and every code starting with 21.
MED_TYPES: dict[str, str] = {
    "11": "普通门诊 / outpatient",
    "12": "门诊挂号 / outpatient registration",
    "13": "急诊 / emergency",
    "14": "门诊慢特病 / outpatient chronic and special diseases",
    "15": "特药 / special drugs",
    "16": "中医特色门诊 / TCM outpatient",
    "21": "普通住院 / inpatient",
    "22": "外伤住院 / inpatient, injury",
    "23": "转外诊治住院 / inpatient, referred elsewhere",
    "24": "急诊转住院 / inpatient from emergency",
    "25": "异地住院 / inpatient, out of region",
    "26": "单病种住院 / inpatient, single-disease payment",
    "27": "自主就医 / self-referred",
    "28": "日间手术 / day surgery",
    "29": "起付线治疗 / treatment below the deductible",
    "41": "定点药店购药 / designated pharmacy purchase",
    "51": "生育门诊 / maternity outpatient",
    "52": "生育住院 / maternity inpatient",
    "61": "照护保险 / long-term care",
    "81": "意外伤害门诊 / outpatient, accidental injury",
}
LOCAL_MED_TYPE_PREFIX = "99"
DEFAULT_MED_TYPE = "21"  # a settlement record without med_type is an inpatient discharge (普通住院)
PHARMACY_MED_TYPE = "41"  # 定点药店购药: what a pharmacy settles


# NHSA insurance types (险种类型 insutype, national dictionary): a liability may apply to some of them only, e.g.
# a product that pays urban-rural residents' in-list costs at a higher ratio than employees'.
INSUTYPES = {
    "310": "职工基本医疗保险 / employees' basic medical insurance",
    "320": "公务员医疗补助 / civil servants' medical subsidy",
    "330": "大额医疗费用补助 / large-amount medical subsidy",
    "340": "离休人员医疗保障 / retired cadres' medical security",
    "390": "城乡居民基本医疗保险 / urban and rural residents' basic medical insurance",
    "392": "城乡居民大病医疗保险 / residents' serious-illness insurance",
    "510": "生育保险 / maternity insurance",
}


def insutype_matches(listed: tuple[str, ...] | None, insutype: str | None) -> bool:
    """Whether a liability listing these insurance types applies to a bill of this one (None listed: every
    type). A bill that does not say its type matches no liability that lists types (the answer says why)."""
    return listed is None or (insutype is not None and insutype in listed)


def med_type_known(code: str) -> bool:
    """A national category or a local one: digits, 2–8 long, refining a national category or 99 (local)."""
    return (
        code.isdigit()
        and 2 <= len(code) <= 8
        and (code[:2] in MED_TYPES or code[:2] == LOCAL_MED_TYPE_PREFIX)
    )


def med_type_matches(listed: tuple[str, ...] | None, med_type: str) -> bool:
    """Whether a liability listing these categories applies to a bill of this one (None: every category)."""
    return listed is None or any(med_type.startswith(code) for code in listed)


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


RATIO_KINDS = ("standard", "pre_existing", "non_bmi", "pre_existing_non_bmi")


@dataclass(frozen=True)
class Ratios:
    """The payout ratio per combination of conditions, written out (no "lowest applicable" rule)."""

    standard: Decimal
    pre_existing: Decimal  # a diagnosis falls under a pre-existing condition the person is flagged with
    non_bmi: Decimal  # the bill was not settled through the local basic medical insurance
    pre_existing_non_bmi: Decimal  # both

    def pick(self, *, pre_existing: bool, non_bmi: bool) -> tuple[Decimal, str]:
        kind = RATIO_KINDS[int(pre_existing) + 2 * int(non_bmi)]
        value: Decimal = getattr(self, kind)
        return value, kind

    @property
    def default(self) -> Decimal:
        return self.standard


ANY = "*"


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    indications: tuple[str, ...]  # ICD-10 codes or prefixes (C34 covers C34.1)
    hospitals: tuple[str, ...] | None = (
        None  # org codes that may dispense it ("*": any); None: the liability's
    )
    pharmacies: tuple[str, ...] | None = None  # designated pharmacy codes; None: the liability's


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
    carve_out: bool = True  # special drugs: lines paid here are not also paid as out-of-list costs
    med_types: tuple[str, ...] | None = None  # NHSA categories it applies to; None: every one (format 1)
    insutypes: tuple[str, ...] | None = None  # NHSA insurance types it applies to; None: every one
    in_overall_cap: bool = True  # cut by, and counted in, the product's overall annual cap
    bmi_deductible_covered: bool = True  # in-list basis includes the BMI deductible the patient paid
    carve_refused: bool = False  # format 1: refused lines of listed drugs also leave the out-of-list base

    def drug_hospitals(self, drug: Drug) -> tuple[str, ...]:
        if drug.hospitals is not None:
            return drug.hospitals
        return (ANY,) if self.hospital_dispensing else ()

    def drug_pharmacies(self, drug: Drug) -> tuple[str, ...]:
        return drug.pharmacies if drug.pharmacies is not None else self.designated_pharmacies


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
    format: int = 1
    # org id -> org code of the hospitals the product names as drug channels (filled in by the service when it
    # loads a stored version: rules name organisations by code, a settlement knows its hospital by id)
    hospital_codes: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    pharmacy_codes: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)  # the same
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def lead(self) -> InsurerShare:
        return next(i for i in self.insurers if i.lead)

    def deductible(self, code: str) -> Deductible:
        return next(d for d in self.deductibles if d.code == code)

    def covers(self, day: dt.date) -> bool:
        return self.period_start <= day <= self.period_end

    def policy_year_of(self, day: dt.date) -> int:
        """The policy year a day falls in: `year` for the first, +1 at each anniversary of the period start."""
        start = self.period_start
        passed = day.year - start.year - ((day.month, day.day) < (start.month, start.day))
        return self.year + max(passed, 0)

    def counter_suffix(self, policy_year: int) -> str:
        """How a policy year's accumulators are keyed: the first year's by the bare pool or liability code
        (as products spanning one year always were), a later year's by `code@year`."""
        return "" if policy_year == self.year else f"@{policy_year}"

    @property
    def policy_years(self) -> tuple[int, ...]:
        return tuple(range(self.year, self.policy_year_of(self.period_end) + 1))

    @property
    def public_fund_fields(self) -> tuple[str, ...]:
        """Settlement fields of the public payers that pay before this product (the payer order)."""
        before = self.payer_order[: self.payer_order.index(Payer.PRODUCT)]
        return tuple(PAYER_FIELD[p] for p in before if p in PAYER_FIELD)

    @property
    def named_hospitals(self) -> frozenset[str]:
        """Org codes of the hospitals named as drug channels."""
        return frozenset(
            h for li in self.liabilities for d in li.drugs for h in (d.hospitals or ()) if h != ANY
        )

    @property
    def named_pharmacies(self) -> frozenset[str]:
        """Org codes of the pharmacies named as drug channels (liability defaults and per drug)."""
        return frozenset(
            {p for li in self.liabilities for p in li.designated_pharmacies}
            | {p for li in self.liabilities for d in li.drugs for p in (d.pharmacies or ())}
        )

    def definition_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.raw).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


# What `json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)` writes,
# without building an encoder per call (a request's hash is one per settlement).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
