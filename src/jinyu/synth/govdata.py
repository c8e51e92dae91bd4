"""Government datasets about enterprises: monthly tax and head-count, patents, judicial records.

Tax, social insurance and provident fund payments also become transfers with exactly the amounts declared
here, so the ledger and the bureaus' data agree the way they do in reality (tax for a period is paid in the
following month; social insurance and provident fund in the month itself).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.calendar import add_months, epoch
from jinyu.synth.model import BATCH, ONLINE, Enterprise, Region
from jinyu.synth.vocab import PATENT_OBJECTS, PATENT_PREFIXES

_SPRING_FESTIVAL_DIP = {0: 0.85, 1: 0.8}  # January and February trade less
# Generator 1.8: a planted, learnable decline among chain members (the portrait scorecard's signal). On its own
# random stream, so no other draw moves: DECLINE_SHARE of the non-core members of each chain start shedding
# DECLINE_RATE of their head-count a month from an onset month drawn uniformly over the window; six months
# into it the head-count is 0.92^6 ≈ 0.61 of what it was (the health rule's `headcount_drop`, below 0.8, fires
# after about three), and `headcount_change` is negative months before the flag. Ground truth: `Region.declines`
# (written as chain_declines.csv).
DECLINE_SHARE = 0.15
DECLINE_RATE = 0.08


def _cols(*names: str) -> dict[str, list[Any]]:
    return {n: [] for n in names}


@dataclass(frozen=True)
class _Months:
    """Per window month: the period label, the memo codes of its payments and its working days (epochs)."""

    periods: list[str]
    tax_memo: list[int]
    social_memo: list[int]
    fund_memo: list[int]
    workdays: list[list[int]]

    @classmethod
    def of(cls, region: Region) -> _Months:
        cal, memos = region.calendar, region.memos
        periods = [cal.period(m) for m in range(cal.months)]
        return cls(
            periods,
            [memos.code(f"税款 {p}") for p in periods],
            [memos.code(f"社会保险费 {p}") for p in periods],
            [memos.code(f"住房公积金 {p}") for p in periods],
            [[epoch(d) for d in days] for days in cal.working_days],
        )

    def time(self, rng: random.Random, m: int, nth: tuple[int, int], hours: tuple[int, int]) -> int:
        """A time on a working day of month m picked from the nth range, within the hour range."""
        days = self.workdays[m]
        # rng.random() arithmetic instead of randint: this runs millions of times at the large scale.
        day = days[min(nth[0] + int(rng.random() * (nth[1] - nth[0] + 1)), len(days) - 1)]
        return day + hours[0] * 3600 + int(rng.random() * (hours[1] - hours[0]) * 3600)


@dataclass
class _Profile:
    """An enterprise's business: monthly revenue, growth, tax burden and payroll base."""

    revenue: float  # yuan a month
    growth: float  # a year
    tax_rate: float
    fund_share: float  # share of the insured who also pay into the provident fund
    wage_base: float
    headcount: float
    decline_from: int | None = None  # the month the planted decline starts (None: not declining)

    @classmethod
    def draw(cls, rng: random.Random, ent: Enterprise) -> _Profile:
        return cls(
            revenue=math.exp(rng.gauss(math.log(60_000 * ent.size**0.9), 0.4)),
            growth=rng.gauss(0.05, 0.12),
            tax_rate=rng.uniform(0.03, 0.06) if ent.general_taxpayer else rng.uniform(0.01, 0.03),
            fund_share=0.0 if rng.random() < (0.1 if ent.size >= 50 else 0.45) else rng.uniform(0.5, 1.0),
            wage_base=rng.uniform(4_500, 9_000),
            headcount=max(1.0, ent.size),
        )


def build_monthly(region: Region) -> None:
    """tax_monthly and headcount_monthly, and the tax / social insurance / provident fund transfers."""
    rng = region.rng("govdata.monthly")
    months = _Months.of(region)
    tax = _cols("uscc", "period", "sales_declared", "tax_paid")
    heads = _cols("uscc", "period", "social_insurance_count", "provident_fund_count", "provident_fund_amount")
    declines = plant_declines(region)
    for ent in region.enterprises:
        profile = _Profile.draw(rng, ent)
        profile.decline_from = declines.get(ent.uscc)
        quarter_tax = 0
        for m in range(max(0, region.calendar.month_of(ent.established)), ent.end_month + 1):
            quarter_tax = _tax_month(region, rng, months, ent, profile, m, quarter_tax, tax)
            _headcount_month(region, rng, months, ent, profile, m, heads)
    region.tables["tax_monthly"] = tax
    region.tables["headcount_monthly"] = heads


def plant_declines(region: Region) -> dict[str, int]:
    """The planted declines: USCC -> onset month, DECLINE_SHARE of each chain's non-core members (rounded),
    drawn on the stream `govdata.decline`. Kept in `region.declines` (ground truth)."""
    rng = region.rng("govdata.decline")
    chosen: dict[str, int] = {}
    for chain in sorted({e.chain for e in region.enterprises if e.chain}):
        members = [e for e in region.enterprises if e.chain == chain and not e.is_core]
        for ent in rng.sample(members, round(len(members) * DECLINE_SHARE)):
            chosen[ent.uscc] = rng.randrange(region.calendar.months)
    region.declines = chosen
    return chosen


def _bank_of(region: Region, ent: Enterprise) -> int:
    return region.banks.outlets[region.accounts.outlet[ent.settlement]].bank_no


def _tax_month(
    region: Region,
    rng: random.Random,
    months: _Months,
    ent: Enterprise,
    profile: _Profile,
    m: int,
    quarter_tax: int,
    tax: dict[str, list[Any]],
) -> int:
    """One tax_monthly row and its payment next month; returns the small taxpayer's running quarter tax."""
    month = m % 12
    factor = (
        (1 + profile.growth) ** (m / 12) * _SPRING_FESTIVAL_DIP.get(month, 1.0) * rng.lognormvariate(0, 0.15)
    )
    sales = 0 if not ent.general_taxpayer and rng.random() < 0.05 else round(profile.revenue * factor * 100)
    due = round(sales * profile.tax_rate)
    # Small-scale taxpayers file quarterly: their tax falls in the quarter's last month.
    quarter_tax += due
    quarter_end = month % 3 == 2
    paid = due if ent.general_taxpayer else (quarter_tax if quarter_end else 0)
    _append(tax, ent.uscc, months.periods[m], sales, paid)
    # Paid next month, or (late) once a newly registered enterprise's account is open.
    pay_month = max(m + 1, ent.start_month)
    if paid and pay_month < len(months.periods):
        ts = months.time(rng, pay_month, (4, 9), (9, 17))
        tax_account = region.banks.tax_account[_bank_of(region, ent)]
        region.events.add(ts, ent.settlement, tax_account, paid, ONLINE, months.tax_memo[m], pay_month)
    return 0 if quarter_end or ent.general_taxpayer else quarter_tax


def _headcount_month(
    region: Region,
    rng: random.Random,
    months: _Months,
    ent: Enterprise,
    profile: _Profile,
    m: int,
    heads: dict[str, list[Any]],
) -> None:
    """One headcount_monthly row, and the month's social insurance and provident fund payments."""
    profile.headcount = max(1.0, profile.headcount * rng.lognormvariate(0.002, 0.03))
    if profile.decline_from is not None and m >= profile.decline_from:
        profile.headcount = max(1.0, profile.headcount * (1 - DECLINE_RATE))
    insured = max(1, round(profile.headcount))
    fund_count = round(insured * profile.fund_share)
    fund_cents = round(fund_count * profile.wage_base * 0.24 * rng.uniform(0.95, 1.05) * 100)
    _append(heads, ent.uscc, months.periods[m], insured, fund_count, fund_cents)
    if m < ent.start_month:
        return  # registered this month; its account opens later
    bank = _bank_of(region, ent)
    social = round(insured * profile.wage_base * 0.3 * 100)
    ts = months.time(rng, m, (6, 11), (9, 11))
    region.events.add(
        ts, ent.settlement, region.banks.social_account[bank], social, BATCH, months.social_memo[m], m
    )
    if fund_cents:
        ts = months.time(rng, m, (2, 7), (9, 11))
        region.events.add(
            ts, ent.settlement, region.banks.fund_account[bank], fund_cents, BATCH, months.fund_memo[m], m
        )


def _append(cols: dict[str, list[Any]], *values: Any) -> None:
    for col, value in zip(cols.values(), values, strict=True):
        col.append(value)


_PATENT_KINDS = (("invention", 1, 35), ("utility_model", 2, 50), ("design", 3, 15))
_GRANT_DELAY = {"invention": (540, 1100), "utility_model": (180, 365), "design": (120, 240)}


def build_patents(region: Region) -> None:
    rng = region.rng("govdata.patents")
    cols = _cols("patent_no", "uscc", "kind", "title", "filed_on", "granted_on")
    end, serial = region.calendar.end, 0
    for ent in region.enterprises:
        inventive = ent.industry.startswith(("C", "I65", "M73"))
        if rng.random() >= (0.6 if inventive else 0.03):
            continue
        count = min(300, int(math.sqrt(ent.size) * rng.paretovariate(1.5) * (3 if ent.is_core else 0.5)) + 1)
        objects = PATENT_OBJECTS.get(ent.industry[:3], PATENT_OBJECTS["default"])
        for _ in range(count):
            kind, digit, _w = rng.choices(_PATENT_KINDS, [k[2] for k in _PATENT_KINDS])[0]
            filed = ent.established + dt.timedelta(days=rng.randrange(max(1, (end - ent.established).days)))
            delay = _GRANT_DELAY[kind]
            granted: dt.date | None = filed + dt.timedelta(days=rng.randint(*delay))
            if granted is not None and (granted > end or (kind == "invention" and rng.random() < 0.3)):
                granted = None  # still pending (or refused)
            serial += rng.randint(1, 50)
            title = rng.choice(PATENT_PREFIXES) + rng.choice(objects)
            _append(
                cols,
                idgen.patent_number(filed.year, digit, serial % 10**7),
                ent.uscc,
                kind,
                title,
                filed,
                granted,
            )
    region.tables["patents"] = cols


_CASE_TYPES = (("contract", 45), ("loan", 15), ("labor", 20), ("ip", 8), ("enforcement", 12))
_MEDIAN_AMOUNT = {
    "contract": 200_000,
    "loan": 800_000,
    "labor": 40_000,
    "ip": 300_000,
    "enforcement": 150_000,
}


def build_judicial(region: Region) -> None:
    rng = region.rng("govdata.judicial")
    cols = _cols("case_no", "uscc", "role", "case_type", "filed_on", "amount", "status")
    ents, end = region.enterprises, region.calendar.end
    sequence: dict[str, int] = {}
    for ent in ents:
        if rng.random() >= min(0.5, 0.05 + 0.01 * math.log1p(ent.size)):
            continue
        for _ in range(int(rng.paretovariate(2.0)) + rng.randint(0, 1)):
            case_type = rng.choices([c for c, _ in _CASE_TYPES], [w for _, w in _CASE_TYPES])[0]
            filed = end - dt.timedelta(days=rng.randrange(4 * 365))
            court = ent.district[2:]  # a district court's code is its district code without the province
            word = "执" if case_type == "enforcement" else "民初"
            key = f"{filed.year}{court}{word}"
            sequence[key] = sequence.get(key, rng.randint(100, 900)) + rng.randint(1, 40)
            case_no = f"（{filed.year}）渝{court}{word}{sequence[key]}号"
            amount = round(math.exp(rng.gauss(math.log(_MEDIAN_AMOUNT[case_type]), 1.0)) * 100)
            closed = (filed < add_months(end, -12) and rng.random() < 0.85) or rng.random() < 0.2
            status = "closed" if closed else "open"
            role = _role(rng, case_type)
            _append(cols, case_no, ent.uscc, role, case_type, filed, amount, status)
            if case_type in ("contract", "ip") and rng.random() < 0.3:  # the other side is in the region too
                other = rng.choice(ents)
                if other.idx != ent.idx:
                    other_role = "defendant" if role == "plaintiff" else "plaintiff"
                    _append(cols, case_no, other.uscc, other_role, case_type, filed, amount, status)
    region.tables["judicial"] = cols


def _role(rng: random.Random, case_type: str) -> str:
    if case_type == "enforcement":
        return "executed"
    if case_type in ("loan", "labor"):
        return "defendant"
    return rng.choice(("plaintiff", "defendant"))
