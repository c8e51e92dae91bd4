"""Supplementary medical insurance: insured persons and their inpatient visits with BMI settlement records.

A share of the region's residents enroll in the city product of the window's last year (`CQ-YKB-2024`), some
flagged with pre-existing conditions. Insured persons are hospitalised at the rate of a city population;
most stays are small (the 20,000-yuan deductible is rarely reached), a long tail of cancer, cardiac and
renal stays is large, and some cancer stays carry a special drug (sometimes outside its indication). Visits
concentrate in the prepaid, top-grade hospitals. Each visit carries the national settlement record (setlinfo)
as the hospital's system would send it: medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt
+ inscp_scp_amt, and the funds plus personal account plus patient cash add up to it.

The part fills `region.tables["claim_insured"]` and `region.tables["claim_visits"]` (value forms as in
writers.py, columns as in `schema.DATASETS`), which the generator writes as the datasets of the same names
(contracts in `jinyu.governance.contracts.claims`). Visits are stored in settlement-time order, the order a
hospital's system sends them in. The part has its own random stream and only reads the region, so it leaves
every other dataset as it was.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from jinyu.synth.model import Region
from jinyu.synth.schema import DATASETS

PRODUCT_CODE = "CQ-YKB-2024"
POLICY_YEAR = 2024
PREMIUM_FEN = 6900
ENROLL_SHARE = 0.35  # of residents
PRE_EXISTING_SHARE = 0.06
ADMISSION_RATE = 0.12  # inpatient stays per insured person and year

# (ICD-10, weight, median cost in yuan, sigma): a city's inpatient case mix, roughly.
_CASES = (
    ("J18.9", 18, 9_000, 0.6),  # pneumonia
    ("K35.8", 10, 14_000, 0.4),  # appendicitis
    ("O80", 9, 7_000, 0.3),  # delivery
    ("I63.9", 8, 30_000, 0.7),  # cerebral infarction
    ("I21.9", 5, 60_000, 0.6),  # myocardial infarction
    ("I25.1", 7, 35_000, 0.6),  # coronary heart disease (stent)
    ("S72.0", 5, 55_000, 0.5),  # femoral neck fracture
    ("N18.5", 4, 80_000, 0.7),  # end-stage renal disease
    ("C34.1", 5, 120_000, 0.8),  # lung cancer
    ("C50.9", 4, 90_000, 0.7),  # breast cancer
    ("C16.9", 3, 110_000, 0.7),  # gastric cancer
    ("C90.0", 1, 200_000, 0.6),  # multiple myeloma
    ("C83.3", 1, 250_000, 0.8),  # diffuse large B-cell lymphoma
)
_PRE_EXISTING = ("C34", "C50", "N18", "I25", "C16")
# Special drugs of the product and their indications (as in the sample product definition).
_DRUGS = {
    "C34": ("L01FF02", 45_000),
    "C50": ("L01FD01", 25_000),
    "C16": ("L01FD01", 25_000),
    "C90": ("L01FC01", 60_000),
    "C83": ("L01XL03", 1_200_000),
}


def build_claims(region: Region) -> None:
    """Enroll residents and generate their inpatient visits of the policy year (appends two tables)."""
    rng = region.rng("claims")
    insured = _enroll(region, rng)
    hospitals = _hospitals(region)
    visits: dict[str, list[Any]] = {name: [] for name in DATASETS["claim_visits"].column_names}
    if hospitals:
        codes, weights = zip(*hospitals, strict=True)
        for person, conditions in insured:
            for _ in range(_poisson(rng, ADMISSION_RATE)):
                hospital = rng.choices(codes, weights)[0]
                _visit(rng, visits, hospital, person, conditions, len(visits["mdtrt_id"]))
    region.tables["claim_visits"] = _in_settlement_order(visits)


def _enroll(region: Region, rng: random.Random) -> list[tuple[str, tuple[str, ...]]]:
    rows: dict[str, list[Any]] = {name: [] for name in DATASETS["claim_insured"].column_names}
    insured: list[tuple[str, tuple[str, ...]]] = []
    for person_id in region.persons.ids:
        if rng.random() >= ENROLL_SHARE:
            continue
        conditions: tuple[str, ...] = ()
        if rng.random() < PRE_EXISTING_SHARE:
            conditions = (rng.choice(_PRE_EXISTING),)
        enrolled = dt.date(POLICY_YEAR - 1, 11, 1) + dt.timedelta(days=rng.randrange(60))
        for col, value in (
            ("person_id", person_id),
            ("product_code", PRODUCT_CODE),
            ("policy_year", POLICY_YEAR),
            ("pre_existing", ";".join(conditions) or None),
            ("premium", PREMIUM_FEN),
            ("enrolled_on", enrolled),
        ):
            rows[col].append(value)
        insured.append((person_id, conditions))
    region.tables["claim_insured"] = rows
    return insured


def _hospitals(region: Region) -> list[tuple[str, float]]:
    """(org code, weight): prepaid hospitals draw most stays; the rest by grade."""
    inst = region.tables.get("institutions", {})
    grade_weight = {"3A": 6.0, "3B": 3.0, "2A": 1.2, "2B": 0.8, "1A": 0.3, "other": 0.2}
    out = []
    for code, kind, grade, prepaid in zip(
        inst.get("org_code", []), inst.get("kind", []), inst.get("hospital_grade", []),
        inst.get("in_prepayment", []), strict=True,
    ):  # fmt: skip
        if kind == "hospital":
            out.append((code, grade_weight.get(grade or "other", 0.2) * (8.0 if prepaid else 1.0)))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _fen(yuan: float) -> int:
    return max(round(yuan * 100), 0)


def _visit(
    rng: random.Random,
    visits: dict[str, list[Any]],
    hospital: str,
    person: str,
    conditions: tuple[str, ...],
    seq: int,
) -> None:
    weights = [w * (4 if any(code.startswith(c) for c in conditions) else 1) for code, w, _, _ in _CASES]
    code, _, median, sigma = rng.choices(_CASES, weights)[0]
    total = _fen(median * math.exp(rng.gauss(0, sigma)))
    drug_code, drug = None, 0
    prefix = code[:3]
    if prefix in _DRUGS and rng.random() < 0.35:
        drug_code, base = _DRUGS[prefix]
        drug = _fen(base * rng.uniform(0.6, 1.4))
    elif prefix.startswith("C") and rng.random() < 0.05:
        drug_code, drug = "L01FF02", _fen(45_000 * rng.uniform(0.6, 1.4))  # off-indication use
    ownpay = int(total * rng.uniform(0.05, 0.25)) + drug
    overlmt = int(total * rng.uniform(0.0, 0.03))
    preself = int(total * rng.uniform(0.0, 0.08))
    inscp = max(total - ownpay + drug - overlmt - preself, 0)
    medfee = ownpay + overlmt + preself + inscp
    bmi = rng.random() > 0.03  # a few bills were not settled through local BMI (out-of-region, unfiled)
    hifp = hifmi = hifob = maf = 0
    if bmi:
        hifp = int(max(inscp - 80_000, 0) * rng.uniform(0.7, 0.85))  # 800-yuan threshold, 70-85 %
        hifp = min(hifp, 40_000_000)
        left = inscp + preself - hifp
        if left > 2_000_000:
            hifmi = int((left - 2_000_000) * 0.6)  # serious-illness insurance above 20,000 yuan
        if rng.random() < 0.02:
            maf = min(int((inscp + preself - hifp - hifmi) * 0.5), 500_000)
    acct = min(int(rng.uniform(0, 200_000)), max(medfee - hifp - hifmi - hifob - maf, 0))
    cash = medfee - hifp - hifmi - hifob - maf - acct
    day = dt.date(POLICY_YEAR, 1, 1) + dt.timedelta(days=rng.randrange(366))
    local = dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60)))
    setl_time = int((local - _EPOCH_LOCAL).total_seconds()) - 8 * 3600  # Asia/Shanghai wall clock -> UTC
    serial = f"{hospital}{day:%Y%m%d}{seq:07d}"
    for col, value in (
        ("hospital_code", hospital),
        ("mdtrt_id", f"M{serial}"),
        ("setl_id", f"S{serial}"),
        ("person_id", person),
        ("setl_time", setl_time),
        ("dise_codg", code),
        ("medfee_sumamt", medfee),
        ("fulamt_ownpay_amt", ownpay),
        ("overlmt_selfpay", overlmt),
        ("preselfpay_amt", preself),
        ("inscp_scp_amt", inscp),
        ("hifp_pay", hifp),
        ("hifmi_pay", hifmi),
        ("hifob_pay", hifob),
        ("maf_pay", maf),
        ("acct_pay", acct),
        ("psn_cash_pay", cash),
        ("bmi_settled", bmi),
        ("special_drug_code", drug_code),
        ("special_drug_amount", drug if drug_code else None),
    ):
        visits[col].append(value)


_EPOCH_LOCAL = dt.datetime(1970, 1, 1)


def _in_settlement_order(visits: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The visits reordered by (setl_time, mdtrt_id): visits are drawn person by person, but a hospital's
    system sends settlements as they happen (mdtrt_id breaks ties, so the order is total and reproducible)."""
    order = sorted(
        range(len(visits["mdtrt_id"])), key=lambda i: (visits["setl_time"][i], visits["mdtrt_id"][i])
    )
    return {name: [values[i] for i in order] for name, values in visits.items()}
