"""Planted data defects (`jinyu synth --defects`): the region's head-count data carries a known three-year
improving trend of anomalies, so the governance report has something true to recover.

Why head-count (`headcount_monthly`, provider BUREAU-HRSS): it is monthly, large enough for rates of a few
hundredths of a percent, its clean rows fail no standard rule (tax_monthly does: a quarterly filer can pay a
quarter's tax in a month with no sales), and a defect there can pass ingestion yet fail exactly one rule:
`provident_fund_count = social_insurance_count + 1` fails `headcount_monthly.fund_within_insured.expression`
and nothing else.

Three years: the region's window is 2023–2024, so with `--defects` the bureau's delivery also carries the
year before (2022), back-filled from each employer's 2023 figures of the same month (only employers
established by then). The yearly targets are the regulator's 0.7 %, 0.1 %, 0.03 % for 2022, 2023, 2024,
falling by a third within each year. Planted counts are rounded with the error carried from month to month
(the running target rounded half up, minus what was planted before), so a month's planted rate is within one
defect of its target and a year's within half a defect of the year's. The ground truth, per provider and
month (rows, defects, target), is `defects_manifest.json`; it is not an ingestion dataset.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jinyu.synth.model import Region

DATASET = "headcount_monthly"
PROVIDER = "BUREAU-HRSS"
RULE = "headcount_monthly.fund_within_insured.expression"
YEARS = (2022, 2023, 2024)
YEAR_TARGETS = (Decimal("0.007"), Decimal("0.001"), Decimal("0.0003"))
MANIFEST = "defects_manifest.json"


@dataclass(frozen=True)
class Planted:
    provider: str
    dataset: str
    rule: str
    month: str
    rows: int
    defects: int
    target: str  # the intended rate as a fraction, e.g. "0.007"


def target_of(month: str) -> Decimal:
    """The intended rate of a `YYYY-MM`: the year's target, a third lower by December."""
    year, within = int(month[:4]), int(month[5:]) - 1
    return YEAR_TARGETS[YEARS.index(year)] * (1 - Decimal(within) / 36)


def schedule(rows_by_month: dict[str, int]) -> list[Planted]:
    """Defects per month for the given row counts (pure): the running target rounded, carried over."""
    out, running, planted = [], Decimal(0), 0
    for month in sorted(rows_by_month):
        rows, target = rows_by_month[month], target_of(month)
        running += target * rows
        due = int(running.to_integral_value(rounding=ROUND_HALF_UP)) - planted
        defects = max(0, min(rows, due))
        planted += defects
        out.append(Planted(PROVIDER, DATASET, RULE, month, rows, defects, str(target.normalize())))
    return out


def _backfill(region: Region, table: dict[str, list[Any]]) -> None:
    """Add 2022 rows: each 2023 row's figures a year earlier, for employers established by that month."""
    established = {e.uscc: e.established for e in region.enterprises}
    n = len(table["period"])
    for i in range(n):
        period = table["period"][i]
        if not period.startswith("2023-"):
            continue
        earlier = "2022" + period[4:]
        month_end = dt.date(2022, int(period[5:]) % 12 + 1, 1) if period[5:] != "12" else dt.date(2023, 1, 1)
        if established.get(table["uscc"][i], month_end) >= month_end:
            continue  # not established by the end of that month (or unknown): no record
        for column, values in table.items():
            values.append(earlier if column == "period" else values[i])


def plant_defects(region: Region) -> list[Planted]:
    """Back-fill 2022, then plant each month's defects on rows drawn from that month (own random stream)."""
    rng = region.rng("defects")
    table = region.tables[DATASET]
    _backfill(region, table)
    by_month: dict[str, list[int]] = defaultdict(list)
    for i, period in enumerate(table["period"]):
        by_month[period].append(i)
    plan = schedule({m: len(rows) for m, rows in by_month.items() if int(m[:4]) in YEARS})
    insured, fund = table["social_insurance_count"], table["provident_fund_count"]
    for cell in plan:
        for i in rng.sample(by_month[cell.month], cell.defects):
            fund[i] = insured[i] + 1  # more fund contributors than insured employees
    return plan


def write_manifest(out: Path, plan: list[Planted]) -> None:
    text = json.dumps([asdict(p) for p in plan], ensure_ascii=False, indent=1)
    (out / MANIFEST).write_text(text + "\n", encoding="utf-8")
