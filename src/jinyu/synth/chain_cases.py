"""A planted contagion case in the new-display chain, whose DebtRank exposures can be checked by hand.

Five new enterprises with accounts opened in 2023-06 and no other activity (they join after the free-running
flows are built, so no flow, payroll or tax touches them):

  F  devices  (C3911)  the enterprise that stops paying
  S1 modules  (C3979)  paid 200,000.00 by F in each of the case's three months: its only income
  S2 modules  (C3982)  paid 100,000.00 by F and 100,000.00 by Z in each month: half of its income from F
  T  panels   (C3974)  paid 50,000.00 by S1 in each month: its only income
  Z  outside the chains (K7020), pays S2

Months: the 7th..5th last of the window (2024-06..2024-08 for the 24-month window 2023-01..2024-12),
payments on the 10th working day at 10:00 (Shanghai). As of the last of them, with the default 3 receivable months:
S1 loses 600,000.00 (distress 1), S2 300,000.00 (0.5), T 150,000.00 (1, tier 2); total 1,050,000.00.
The ground truth is written to `chain_cases.csv` (not an ingestion dataset). Runs last, on its own random
stream, so it shifts no earlier draw; it adds enterprises, accounts, chain members and transfers.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.calendar import epoch
from jinyu.synth.model import ONLINE, Enterprise, Region
from jinyu.synth.vocab import ROADS

CASES_FILE = "chain_cases.csv"
DECLINES_FILE = (
    "chain_declines.csv"  # the planted head-count declines (govdata.plant_declines), generator 1.8
)
CASE_COLUMNS = ("case", "role", "uscc", "name", "chain_code", "segment", "as_of_month", "tier", "loss")
# role, name, industry, segment (None: not a chain member)
PLAN = (
    ("failing", "重庆澜屏显示终端有限公司", "C3911", "devices"),
    ("supplier_sole", "重庆澜模光电模组有限公司", "C3979", "modules"),
    ("supplier_half", "重庆澜光显示模组有限公司", "C3982", "modules"),
    ("second_tier", "重庆澜晶面板科技有限公司", "C3974", "panels"),
    ("other_buyer", "重庆澜信商务服务有限公司", "K7020", None),
)
# (payer role, payee role, yuan per month)
PAYMENTS = (
    ("failing", "supplier_sole", 200_000),
    ("failing", "supplier_half", 100_000),
    ("other_buyer", "supplier_half", 100_000),
    ("supplier_sole", "second_tier", 50_000),
)
EXPECTED = {
    "supplier_sole": (1, "600000.00"),
    "supplier_half": (1, "300000.00"),
    "second_tier": (2, "150000.00"),
}


def _enterprise(
    region: Region, rng: random.Random, name: str, industry: str, segment: str | None
) -> Enterprise:
    district = "500108"
    uscc = idgen.make_uscc(rng, region.used_usccs, district)
    established = dt.date(2023, 5, 1)
    ent = Enterprise(
        idx=len(region.enterprises),
        uscc=uscc,
        name=name,
        industry=industry,
        district=district,
        capital_cents=10_000_000 * 100,
        established=established,
        address=f"重庆市南岸区{rng.choice(ROADS)}{rng.randint(1, 399)}号",
        phone=None,
        rep=rng.randrange(len(region.persons)),
        status="active",
        size=20.0,
        kind="general",
        start_month=region.calendar.month_of(established) + 1,
        end_month=region.calendar.months - 1,
        chain="new_display" if segment else None,
        segment=segment,
    )
    region.enterprises.append(ent)
    holders = region.tables[
        "shareholders"
    ]  # its legal representative holds it all, as every enterprise has holders
    person = (uscc, "person", region.persons.ids[ent.rep], region.persons.names[ent.rep], 10_000)
    for col, value in zip(holders.values(), person, strict=True):
        col.append(value)
    banks, book = region.banks, region.accounts
    outlet = banks.outlets_of[0][0]  # the first bank's first outlet
    number = f"{banks.outlets[outlet].bank_no + 11:02d}{outlet:05d}{len(book) + 1:011d}"
    ent.settlement = book.add(
        number, outlet, "enterprise", uscc, name, "corporate_settlement", dt.date(2023, 6, 1)
    )
    return ent


def plant_chain_cases(region: Region) -> None:
    """The generator part: the contagion case and its ground truth (`region.tables['chain_cases']`)."""
    cal = region.calendar
    if cal.months < 6:
        return  # pragma: no cover - every scale has the 24-month window
    rng = region.rng("chain_cases")
    ents = {role: _enterprise(region, rng, name, ind, seg) for role, name, ind, seg in PLAN}
    # Away from the month the presented statements are cut from (the third last), so they stay as they were.
    months = range(cal.months - 7, cal.months - 4)
    memo = region.memos.code("货款")
    for m in months:
        ts = epoch(cal.working_days[m][9], 10 * 3600)
        for payer, payee, yuan in PAYMENTS:
            region.events.add(ts, ents[payer].settlement, ents[payee].settlement, yuan * 100, ONLINE, memo, m)
    as_of = cal.period(months[-1])
    rows: dict[str, list[Any]] = {c: [] for c in CASE_COLUMNS}
    for role, _name, _ind, seg in PLAN:
        tier, loss = EXPECTED.get(role, (0, ""))
        e = ents[role]
        values = (
            "contagion_new_display",
            role,
            e.uscc,
            e.name,
            "new_display" if seg else "",
            seg or "",
            as_of,
            tier,
            loss,
        )
        for col, value in zip(rows.values(), values, strict=True):
            col.append(value)
    region.tables["chain_cases"] = rows


def write_chain_cases(region: Region, out: Path) -> Path:
    path = Path(out) / CASES_FILE
    rows = region.tables.get("chain_cases", {c: [] for c in CASE_COLUMNS})
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CASE_COLUMNS)
        writer.writerows(zip(*rows.values(), strict=True))
    return path


def write_chain_declines(region: Region, out: Path) -> Path:
    """Ground truth of the planted declines: one row per declining member, its chain and onset month."""
    path = Path(out) / DECLINES_FILE
    chain_of = {e.uscc: e.chain for e in region.enterprises}
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("uscc", "chain_code", "onset_month"))
        for uscc, onset in sorted(region.declines.items()):
            writer.writerow((uscc, chain_of[uscc], region.calendar.period(onset)))
    return path
