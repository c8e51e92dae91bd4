"""The credit card's sections and derived indicators, from an enterprise's facts (pure; docs/credit-card.md).

Facts are rows of the `credit_card_facts` query. Each section reads its own sources and is measured against
its own source's as-of date (windows such as "last 12 months" end there, never at today's clock), so the
same facts always give the same card. A section whose source has no coverage row for the enterprise, or says
it holds no records of it, is "no_data": distinct from a covered section whose counts are zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

CARD_FORMAT = "1"
SECTIONS = ("registration", "tax", "headcount", "ip", "judicial", "penalties")
SECTION_TITLES = {
    "registration": "工商登记 / Business registration",
    "tax": "纳税 / Tax",
    "headcount": "社保与公积金 / Social insurance and provident fund",
    "ip": "知识产权 / Intellectual property",
    "judicial": "司法 / Judicial records",
    "penalties": "行政处罚 / Administrative penalties",
}
HISTORY_MONTHS = 24
RECENT_ITEMS = 10
SEVERE_PENALTIES = frozenset({"confiscation", "suspension", "license_revoked"})
_CENT = Decimal("0.01")

Fact = Mapping[str, Any]


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    # Amounts arrive as DECIMAL(18,2) Decimals: quantize them as they are (no copy through Decimal()).
    return str((value if type(value) is Decimal else Decimal(value)).quantize(_CENT))


def day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def add_months(period: str, months: int) -> str:
    """'YYYY-MM' moved by whole months."""
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_before(on: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day when it has fewer days)."""
    index = on.year * 12 + on.month - 1 - months
    year, month = index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(on.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def ratio(now: Decimal, before: Decimal) -> str | None:
    """(now - before) / before to four places; None when there is nothing to compare with."""
    if before == 0:
        return None
    return str(((now - before) / before).quantize(Decimal("0.0001")))


def build_card(uscc: str, name: str, facts: Iterable[Fact]) -> dict[str, Any]:
    """The whole card (every section) of one enterprise."""
    by_source: dict[str, list[Fact]] = {}
    for fact in facts:
        by_source.setdefault(fact["source"], []).append(fact)
    coverage = {f["item"]: f for f in by_source.get("coverage", [])}
    sections = {}
    for section in SECTIONS:
        cover = coverage.get(section)
        if cover is None or cover["status"] != "covered":
            sections[section] = _no_data(cover)
            continue
        as_of: dt.date = cover["on_date"]
        data = _BUILDERS[section](by_source, as_of)
        sections[section] = (
            _no_data(cover)
            if data is None
            else {
                "status": "ok",
                "source": {"bureau": cover["text"], "as_of": day(as_of)},
                "data": data,
            }
        )
    return {"format": CARD_FORMAT, "uscc": uscc, "name": name, "sections": sections}


def _no_data(cover: Fact | None) -> dict[str, Any]:
    source = (
        {"bureau": cover["text"], "as_of": day(cover["on_date"])}
        if cover
        else {"bureau": None, "as_of": None}
    )
    return {"status": "no_data", "source": source, "data": None}


def _registration(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any] | None:
    ents = facts.get("enterprise", [])
    if not ents:
        return None
    ent = ents[0]
    changes = sorted(
        (f for f in facts.get("change", []) if f["on_date"] <= as_of),
        key=lambda f: (f["on_date"], f["item"]),
        reverse=True,
    )
    since_12, since_36 = months_before(as_of, 12), months_before(as_of, 36)
    # Every sort below has a full tie-break (same order whatever order the facts came in; bulk_sql.py sorts
    # the same way).
    holders = sorted(
        facts.get("shareholder", []), key=lambda f: (-f["amount"], f["text"] or "", f["item"] or "")
    )
    return {
        "name": ent["text"],
        "status": ent["status"],
        "registered_capital": money(ent["amount"]),
        "established_on": day(ent["on_date"]),
        "industry_code": ent["item"],
        "district_code": ent["period"],
        "address": ent["text2"],
        "legal_rep_name": ent["text3"],
        "shareholders": [
            {"holder_type": f["item"], "name": f["text"], "share_ratio": money(f["amount"])} for f in holders
        ],
        "changes_12m": sum(1 for f in changes if f["on_date"] > since_12),
        "changes_36m": sum(1 for f in changes if f["on_date"] > since_36),
        "legal_rep_changes_36m": sum(
            1 for f in changes if f["on_date"] > since_36 and f["item"] == "legal_rep"
        ),
        "changes": [
            {"changed_on": day(f["on_date"]), "item": f["item"], "before": f["text"], "after": f["text2"]}
            for f in changes[:RECENT_ITEMS]
        ],
    }


def _tax(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any]:
    month = as_of.strftime("%Y-%m")
    first_12, first_24 = add_months(month, -11), add_months(month, -23)
    rows = sorted((f for f in facts.get("tax", []) if f["period"] <= month), key=lambda f: f["period"])
    last_12 = [f for f in rows if f["period"] >= first_12]
    prev_12 = [f for f in rows if first_24 <= f["period"] < first_12]
    paid_12, paid_prev = _sum(last_12, "amount"), _sum(prev_12, "amount")
    sales_12, sales_prev = _sum(last_12, "amount2"), _sum(prev_12, "amount2")
    ratings = sorted(
        (f for f in facts.get("rating", []) if f["on_date"] <= as_of), key=lambda f: f["n1"], reverse=True
    )
    return {
        "tax_paid_12m": money(paid_12),
        "tax_paid_prev_12m": money(paid_prev),
        "tax_paid_growth": ratio(paid_12, paid_prev),
        "sales_12m": money(sales_12),
        "sales_prev_12m": money(sales_prev),
        "sales_growth": ratio(sales_12, sales_prev),
        "months_filed_12m": len(last_12),
        "zero_sales_months_12m": sum(1 for f in last_12 if f["amount2"] == 0),
        "latest_rating": ratings[0]["status"] if ratings else None,
        "ratings": [{"year": f["n1"], "rating": f["status"], "rated_on": day(f["on_date"])} for f in ratings],
        "months": [
            {"period": f["period"], "tax_paid": money(f["amount"]), "sales_declared": money(f["amount2"])}
            for f in rows
            if f["period"] >= first_24
        ],
    }


def _sum(rows: Iterable[Fact], column: str) -> Decimal:
    return sum((Decimal(f[column]) for f in rows if f[column] is not None), Decimal("0"))


def _headcount(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any]:
    month = as_of.strftime("%Y-%m")
    rows = sorted((f for f in facts.get("headcount", []) if f["period"] <= month), key=lambda f: f["period"])
    by_period = {f["period"]: f for f in rows}
    latest = rows[-1] if rows else None
    year_ago = by_period.get(add_months(latest["period"], -12)) if latest else None
    first_shown = add_months(month, -(HISTORY_MONTHS - 1))  # once, not per row
    return {
        "latest_period": latest["period"] if latest else None,
        "social_insurance_latest": latest["n1"] if latest else None,
        "provident_fund_latest": latest["n2"] if latest else None,
        "social_insurance_12m_ago": year_ago["n1"] if year_ago else None,
        "social_insurance_change_12m": latest["n1"] - year_ago["n1"] if latest and year_ago else None,
        "provident_fund_change_12m": latest["n2"] - year_ago["n2"] if latest and year_ago else None,
        "months": [
            {"period": f["period"], "social_insurance": f["n1"], "provident_fund": f["n2"]}
            for f in rows
            if f["period"] >= first_shown
        ],
    }


def _ip(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any]:
    patents = [f for f in facts.get("patent", []) if f["on_date"] <= as_of]
    marks = [f for f in facts.get("trademark", []) if f["on_date"] <= as_of]
    works = [f for f in facts.get("copyright", []) if f["on_date"] <= as_of]

    def granted(f: Fact) -> bool:
        return f["end_date"] is not None and f["end_date"] <= as_of

    events = [(f["end_date"], f"patent:{f['item']}", f["text"], f["text2"]) for f in patents if granted(f)]
    events += [(f["end_date"], "trademark", f["text"], f["text2"]) for f in marks if granted(f)]
    events += [(f["on_date"], f"copyright:{f['item']}", f["text"], f["text2"]) for f in works]
    events.sort(key=lambda e: (e[0], e[3]), reverse=True)
    since_12 = months_before(as_of, 12)
    return {
        "patents": {
            kind: {
                "granted": sum(1 for f in patents if f["item"] == kind and granted(f)),
                "pending": sum(1 for f in patents if f["item"] == kind and not granted(f)),
            }
            for kind in ("invention", "utility_model", "design")
        },
        "trademarks": {
            "registered": sum(1 for f in marks if granted(f)),
            "pending": sum(1 for f in marks if not granted(f)),
        },
        "copyrights": {kind: sum(1 for f in works if f["item"] == kind) for kind in ("software", "work")},
        "grants_12m": sum(1 for e in events if e[0] > since_12),
        "recent_grants": [
            {"on": day(on), "kind": kind, "title": title, "number": number}
            for on, kind, title, number in events[:RECENT_ITEMS]
        ],
    }


def _judicial(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any]:
    cases = sorted(
        (f for f in facts.get("case", []) if f["on_date"] <= as_of),
        key=lambda f: (f["on_date"], f["text2"]),
        reverse=True,
    )
    listings = sorted(
        (f for f in facts.get("dishonest", []) if f["on_date"] <= as_of),
        key=lambda f: (f["on_date"], f["text2"]),
        reverse=True,
    )
    open_cases = [f for f in cases if f["status"] == "open"]
    listed_now = [f for f in listings if f["end_date"] is None or f["end_date"] > as_of]
    enforcement = [f for f in open_cases if f["item"] == "enforcement"]
    since_36 = months_before(as_of, 36)
    flags = []
    if listed_now:
        flags.append({"flag": "dishonest_debtor", "since": day(min(f["on_date"] for f in listed_now))})
    if enforcement:
        flags.append({"flag": "open_enforcement", "since": day(min(f["on_date"] for f in enforcement))})
    loan_defence = [f for f in open_cases if f["item"] == "loan" and f["text"] == "defendant"]
    if loan_defence:
        flags.append(
            {"flag": "loan_dispute_defendant", "since": day(min(f["on_date"] for f in loan_defence))}
        )
    return {
        "open_cases": len(open_cases),
        "open_case_amount": money(_sum(open_cases, "amount")),
        "cases_36m": sum(1 for f in cases if f["on_date"] > since_36),
        "defendant_cases_36m": sum(
            1 for f in cases if f["on_date"] > since_36 and f["text"] in ("defendant", "executed")
        ),
        "dishonest_debtor": bool(listed_now),
        "flags": flags,
        "dishonest_listings": [
            {
                "case_no": f["text2"],
                "court": f["text"],
                "amount": money(f["amount"]),
                "listed_on": day(f["on_date"]),
                "removed_on": day(f["end_date"]),
            }
            for f in listings
        ],
        "cases": [
            {
                "case_no": f["text2"],
                "case_type": f["item"],
                "role": f["text"],
                "filed_on": day(f["on_date"]),
                "amount": money(f["amount"]),
                "status": f["status"],
            }
            for f in cases[:RECENT_ITEMS]
        ],
    }


def _penalties(facts: Mapping[str, list[Fact]], as_of: dt.date) -> dict[str, Any]:
    items = sorted(
        (f for f in facts.get("penalty", []) if f["on_date"] <= as_of),
        key=lambda f: (f["on_date"], f["text2"]),
        reverse=True,
    )
    since_36 = months_before(as_of, 36)
    recent = [f for f in items if f["on_date"] > since_36]
    severe = [f for f in recent if f["item"] in SEVERE_PENALTIES]
    flags = [{"flag": "severe_penalty", "since": day(min(f["on_date"] for f in severe))}] if severe else []
    return {
        "penalties_36m": len(recent),
        "amount_36m": money(_sum(recent, "amount")),
        "latest_on": day(items[0]["on_date"]) if items else None,
        "severe_36m": bool(severe),
        "flags": flags,
        "items": [
            {
                "decision_no": f["text2"],
                "authority": f["text"],
                "penalty_type": f["item"],
                "amount": money(f["amount"]),
                "decided_on": day(f["on_date"]),
                "reason": f["text3"],
            }
            for f in items[:RECENT_ITEMS]
        ],
    }


_BUILDERS = {
    "registration": _registration,
    "tax": _tax,
    "headcount": _headcount,
    "ip": _ip,
    "judicial": _judicial,
    "penalties": _penalties,
}
