"""Credit-card sources: registration changes, tax credit ratings, trademarks, copyrights, the dishonest-debtor
list, administrative penalties, and each bureau's coverage of each enterprise.

Histories are tied to what the region already holds: ratings start at M for a newly established taxpayer and
move slowly year to year; an enterprise on the dishonest-debtor list is one with an open enforcement case in
`judicial`, and its rating drops to D the next year; penalties and trademarks lean on industry and size.
Penalty authorities in a few districts are not connected to the hub: their enterprises have no coverage row
for `penalties`, so the card shows "no data" rather than "none" for them.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from jinyu.core.districts import CHONGQING_DISTRICTS
from jinyu.synth.model import Enterprise, Region
from jinyu.synth.vocab import BRAND_CHARS

_RATINGS = ("A", "B", "M", "C", "D")
# Next year's rating given this year's (weights over A, B, M, C, D): ratings are sticky.
_RATING_MOVES = {
    "A": (80, 17, 0, 2, 1),
    "B": (15, 72, 0, 10, 3),
    "M": (10, 55, 30, 4, 1),
    "C": (2, 30, 0, 60, 8),
    "D": (0, 10, 0, 30, 60),
}
_ITEMS = (
    ("address", 30),
    ("registered_capital", 25),
    ("shareholder", 20),
    ("legal_rep", 12),
    ("name", 6),
    ("industry", 5),
)
_PENALTIES = (
    ("warning", 30, "未按规定公示年度报告 / annual report not published", "市场监督管理局"),
    ("fine", 45, "违反安全生产管理规定 / work-safety rules breached", "应急管理局"),
    ("fine", 20, "超标排放污染物 / emissions above limits", "生态环境局"),
    ("fine", 15, "虚开发票 / false invoices", "税务局"),
    ("confiscation", 5, "销售不合格产品 / non-conforming products sold", "市场监督管理局"),
    ("suspension", 3, "无证经营 / operating without a licence", "市场监督管理局"),
)
# Source -> (providing bureau, days before the region's end its data runs to).
SOURCES = {
    "registration": ("市场监督管理局 / market regulation bureau", 0),
    "tax": ("税务局 / tax bureau", 0),
    "headcount": ("人力社保局、住房公积金管理中心 / social insurance bureau, provident fund centre", 0),
    "ip": ("知识产权局、版权局 / IP office, copyright office", 7),
    "judicial": ("法院 / courts", 3),
    "penalties": ("各执法部门 / enforcement authorities", 10),
}
_UNCONNECTED_SHARE = 0.15  # share of districts whose penalty authorities do not report to the hub yet


def _cols(*names: str) -> dict[str, list[Any]]:
    return {n: [] for n in names}


def _append(cols: dict[str, list[Any]], *values: Any) -> None:
    for column, value in zip(cols.values(), values, strict=True):
        column.append(value)


def build_credit_sources(region: Region) -> None:
    """Every credit-card source table; runs after `judicial` (the dishonest list follows its cases)."""
    dishonest = _dishonest_debtors(region)
    region.tables["dishonest_debtors"] = dishonest
    listed = {u: d.year for u, d in zip(dishonest["uscc"], dishonest["listed_on"], strict=True)}
    region.tables["tax_credit_ratings"] = _ratings(region, listed)
    region.tables["registration_changes"] = _changes(region)
    region.tables["trademarks"] = _trademarks(region)
    region.tables["copyrights"] = _copyrights(region)
    region.tables["admin_penalties"] = _penalties(region)
    region.tables["source_coverage"] = _coverage(region)


def _ratings(region: Region, listed: dict[str, int]) -> dict[str, list[Any]]:
    """Each April the tax bureau rates the previous year of every enterprise that existed through it."""
    rng = region.rng("credit.ratings")
    cols = _cols("uscc", "year", "rating", "rated_on")
    end = region.calendar.end
    for ent in region.enterprises:
        rating = "M"
        for year in range(ent.established.year + 1, end.year + 1):
            rated_on = dt.date(year, 4, 15 + rng.randrange(10))
            if rated_on > end:
                break
            rated_year = year - 1
            # A newly established taxpayer's first rating is M; later ones move from the year before.
            first = rated_year == ent.established.year
            rating = "M" if first else rng.choices(_RATINGS, _RATING_MOVES[rating])[0]
            if ent.uscc in listed and listed[ent.uscc] <= rated_year:
                rating = "D"  # a listed dishonest debtor is rated D
            _append(cols, ent.uscc, rated_year, rating, rated_on)
    return cols


def _changes(region: Region) -> dict[str, list[Any]]:
    rng = region.rng("credit.changes")
    cols = _cols("uscc", "changed_on", "item", "before_value", "after_value")
    end, names = region.calendar.end, region.persons.names
    for ent in region.enterprises:
        life = (end - ent.established).days
        if life < 60:
            continue
        count = min(6, int(rng.expovariate(1 / max(0.3, life / 1500))))
        dates = sorted({ent.established + dt.timedelta(days=rng.randrange(30, life)) for _ in range(count)})
        capital = ent.capital_cents // 100
        for day in dates:
            item = rng.choices([i for i, _ in _ITEMS], [w for _, w in _ITEMS])[0]
            before, after = _change_values(rng, ent, item, capital, names)
            if item == "registered_capital":
                capital = int(after)
            _append(cols, ent.uscc, day, item, before, after)
    return cols


def _change_values(
    rng: random.Random, ent: Enterprise, item: str, capital: int, names: list[str]
) -> tuple[str | None, str]:
    if item == "registered_capital":
        # Capital the registry holds today is the last change's after-value; earlier ones led up to it.
        return str(round(capital * rng.uniform(0.3, 0.8))), str(capital)
    if item == "legal_rep":
        return rng.choice(names), names[ent.rep]
    if item == "shareholder":
        return "股东变更前 / before", f"新增股东 {rng.randint(1, 3)} 名 / shareholders added"
    if item == "address":
        return "原注册地址 / former address", ent.address
    if item == "industry":
        return "原行业 / former industry", ent.industry
    return "原企业名称 / former name", ent.name


def _trademarks(region: Region) -> dict[str, list[Any]]:
    rng = region.rng("credit.trademarks")
    cols = _cols("reg_no", "uscc", "nice_class", "mark_name", "applied_on", "registered_on")
    end, serial = region.calendar.end, 10_000_000
    for ent in region.enterprises:
        branded = ent.industry.startswith(("C", "F", "H", "I"))
        if rng.random() >= (0.35 if branded else 0.08):
            continue
        for _ in range(min(40, int(rng.paretovariate(1.8) * math.log2(2 + ent.size)))):
            applied = ent.established + dt.timedelta(days=rng.randrange(max(1, (end - ent.established).days)))
            registered: dt.date | None = applied + dt.timedelta(days=rng.randint(240, 420))
            if registered is not None and registered > end:
                registered = None
            serial += rng.randint(1, 900)
            mark = "".join(rng.sample(BRAND_CHARS, 2))
            _append(cols, str(serial), ent.uscc, rng.randint(1, 45), mark, applied, registered)
    return cols


def _copyrights(region: Region) -> dict[str, list[Any]]:
    rng = region.rng("credit.copyrights")
    cols = _cols("reg_no", "uscc", "kind", "title", "registered_on")
    end, serial = region.calendar.end, 0
    for ent in region.enterprises:
        software = ent.industry.startswith(("I6", "M7"))
        if rng.random() >= (0.7 if software else 0.04):
            continue
        for _ in range(min(60, int(rng.paretovariate(1.5) * (4 if software else 1)))):
            day = ent.established + dt.timedelta(days=rng.randrange(max(1, (end - ent.established).days)))
            serial += rng.randint(1, 500)
            kind = "software" if software or rng.random() < 0.5 else "work"
            prefix = "软著登字" if kind == "software" else "渝作登字"
            title = (
                f"{''.join(rng.sample(BRAND_CHARS, 2))}{'管理系统V1.0' if kind == 'software' else '宣传画册'}"
            )
            _append(cols, f"{day.year}{prefix}{serial:07d}号", ent.uscc, kind, title, day)
    return cols


def _dishonest_debtors(region: Region) -> dict[str, list[Any]]:
    """Most enforcement cases put the executed enterprise on the list; some leave it later."""
    rng = region.rng("credit.dishonest")
    cols = _cols("case_no", "uscc", "court", "amount", "listed_on", "removed_on")
    judicial, end = region.tables["judicial"], region.calendar.end
    rows = zip(
        judicial["case_no"], judicial["uscc"], judicial["role"], judicial["filed_on"], judicial["amount"],
        strict=True,
    )  # fmt: skip
    for case_no, uscc, role, filed_on, amount in rows:
        if role != "executed" or rng.random() >= 0.6:
            continue
        listed = filed_on + dt.timedelta(days=rng.randint(90, 240))
        if listed > end:
            continue
        removed: dt.date | None = listed + dt.timedelta(days=rng.randint(60, 720))
        if removed is not None and (removed > end or rng.random() < 0.5):
            removed = None
        district = "50" + case_no[case_no.index("渝") + 1 : case_no.index("渝") + 5]
        court = f"重庆市{CHONGQING_DISTRICTS.get(district, '')}人民法院"
        _append(cols, case_no, uscc, court, round(amount * rng.uniform(0.3, 1.0)), listed, removed)
    return cols


def _penalties(region: Region) -> dict[str, list[Any]]:
    rng = region.rng("credit.penalties")
    cols = _cols("decision_no", "uscc", "authority", "penalty_type", "amount", "decided_on", "reason")
    end, serial = region.calendar.end, 0
    for ent in region.enterprises:
        if rng.random() >= min(0.25, 0.03 + 0.01 * math.log1p(ent.size)):
            continue
        for _ in range(int(rng.paretovariate(2.5))):
            kind, _w, reason, authority = rng.choices(_PENALTIES, [p[1] for p in _PENALTIES])[0]
            day = end - dt.timedelta(days=rng.randrange(min(5 * 365, max(1, (end - ent.established).days))))
            fine = 0 if kind == "warning" else round(math.exp(rng.gauss(math.log(20_000), 1.0)) * 100)
            serial += rng.randint(1, 30)
            decision = f"渝{ent.district[2:]}{authority[:2]}罚〔{day.year}〕{serial % 10000}号"
            _append(cols, decision, ent.uscc, authority, kind, fine, day, reason)
    return cols


def _coverage(region: Region) -> dict[str, list[Any]]:
    """Which bureau holds records of which enterprise, and as of when."""
    rng = region.rng("credit.coverage")
    cols = _cols("source", "uscc", "bureau", "as_of", "covered")
    end = region.calendar.end
    districts = sorted({e.district for e in region.enterprises})
    unconnected = {d for d in districts if rng.random() < _UNCONNECTED_SHARE}
    taxed = set(region.tables["tax_monthly"]["uscc"])
    insured = set(region.tables["headcount_monthly"]["uscc"])
    for source, (bureau, lag) in SOURCES.items():
        as_of = end - dt.timedelta(days=lag)
        for ent in region.enterprises:
            if source == "penalties" and ent.district in unconnected:
                continue  # that district's authorities do not report: no data, not "no penalties"
            covered = {"tax": ent.uscc in taxed, "headcount": ent.uscc in insured}.get(source, True)
            _append(cols, source, ent.uscc, bureau, as_of, covered)
    return cols
