"""Government datasets about enterprises: monthly tax and head-count, patents, judicial records.

Tax, social insurance and provident fund payments also become transfers with exactly the amounts declared
here, so the ledger and the bureaus' data agree the way they do in reality (tax for a period is paid in the
following month; social insurance and provident fund in the month itself).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.calendar import add_months, epoch
from jinyu.synth.model import BATCH, ONLINE, Enterprise, Region
from jinyu.synth.vocab import PATENT_OBJECTS, PATENT_PREFIXES

_SPRING_FESTIVAL_DIP = {0: 0.85, 1: 0.8}  # January and February trade less


def _cols(*names: str) -> dict[str, list[Any]]:
    return {n: [] for n in names}


def build_monthly(region: Region) -> None:
    """tax_monthly and headcount_monthly, and the tax / social insurance / provident fund transfers."""
    rng = region.rng("govdata.monthly")
    tax = _cols("uscc", "period", "sales_declared", "tax_paid")
    heads = _cols("uscc", "period", "social_insurance_count", "provident_fund_count", "provident_fund_amount")
    for ent in region.enterprises:
        _enterprise_months(region, rng, ent, tax, heads)
    region.tables["tax_monthly"] = tax
    region.tables["headcount_monthly"] = heads


def _enterprise_months(
    region: Region,
    rng: random.Random,
    ent: Enterprise,
    tax: dict[str, list[Any]],
    heads: dict[str, list[Any]],
) -> None:
    cal, banks, acct = region.calendar, region.banks, region.accounts
    bank = region.banks.outlets[acct.outlet[ent.settlement]].bank_no
    first = max(0, cal.month_of(ent.established))
    revenue = math.exp(rng.gauss(math.log(60_000 * ent.size**0.9), 0.4))  # yuan a month
    growth = rng.gauss(0.05, 0.12)
    tax_rate = rng.uniform(0.03, 0.06) if ent.general_taxpayer else rng.uniform(0.01, 0.03)
    pf_share = 0.0 if rng.random() < (0.1 if ent.size >= 50 else 0.45) else rng.uniform(0.5, 1.0)
    wage_base = rng.uniform(4_500, 9_000)
    headcount = max(1.0, ent.size)
    quarter_tax = 0
    for m in range(first, ent.end_month + 1):
        period = cal.period(m)
        month = m % 12
        factor = (1 + growth) ** (m / 12) * _SPRING_FESTIVAL_DIP.get(month, 1.0) * rng.lognormvariate(0, 0.15)
        sales = 0 if not ent.general_taxpayer and rng.random() < 0.05 else round(revenue * factor * 100)
        due = round(sales * tax_rate)
        # Small-scale taxpayers file quarterly: their tax falls in the quarter's last month.
        quarter_tax += due
        paid = due if ent.general_taxpayer else (quarter_tax if month % 3 == 2 else 0)
        if month % 3 == 2 or ent.general_taxpayer:
            quarter_tax = 0
        _append(tax, ent.uscc, period, sales, paid)
        if paid and ent.start_month <= m + 1 < cal.months:
            day = cal.nth_working_day(m + 1, rng.randint(4, 9))
            region.events.add(
                epoch(day, rng.randint(32_400, 61_200)),
                ent.settlement,
                banks.tax_account[bank],
                paid,
                ONLINE,
                region.memos.code(f"税款 {period}"),
                m + 1,
            )
        headcount = max(1.0, headcount * rng.lognormvariate(0.002, 0.03))
        insured = max(1, round(headcount))
        fund_count = round(insured * pf_share)
        fund_cents = round(fund_count * wage_base * 0.24 * rng.uniform(0.95, 1.05) * 100)
        _append(heads, ent.uscc, period, insured, fund_count, fund_cents)
        if m >= ent.start_month:
            day = cal.nth_working_day(m, rng.randint(6, 11))
            social = round(insured * wage_base * 0.3 * 100)
            region.events.add(
                epoch(day, rng.randint(32_400, 41_400)),
                ent.settlement,
                banks.social_account[bank],
                social,
                BATCH,
                region.memos.code(f"社会保险费 {period}"),
                m,
            )
            if fund_cents:
                day = cal.nth_working_day(m, rng.randint(2, 7))
                region.events.add(
                    epoch(day, rng.randint(32_400, 41_400)),
                    ent.settlement,
                    banks.fund_account[bank],
                    fund_cents,
                    BATCH,
                    region.memos.code(f"住房公积金 {period}"),
                    m,
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
