"""The anomaly rate and the dataset-level verdicts, computed from a check's aggregate rows. Pure.

Anomaly rate (数据异常率) of a set of records = anomalous records / records checked, where a record is
anomalous when it fails at least one active row-level rule of its dataset. Rates of several datasets, providers
or periods combine by adding numerators and denominators (weighted by records), never by averaging rates.
docs/governance.md holds the full definition.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jinyu.governance.sqlplan import CheckPlan

ALL_RULES = "*"  # the rule code of a cell that counts anomalous records (any rule)
_PP = Decimal("0.0001")  # percentage points are shown with four decimals


@dataclass(frozen=True)
class Cell:
    provider: str
    period: str
    rule_code: str
    rule_version: int
    checked: int
    failed: int


def cells(plan: CheckPlan, rows: Iterable[Mapping[str, Any]], provider: str, period: str) -> list[Cell]:
    """One cell per (provider, period) for every row-level rule, plus the anomalous-record cell."""
    out: list[Cell] = []
    for row in rows:
        who = str(row.get("provider") or provider) if plan.by_provider else provider
        when = str(row["period"]) if plan.by_period else period
        n = int(row["n_rows"])
        out.append(Cell(who, when, ALL_RULES, 0, n, int(row["n_anomalous"] or 0)))
        for i, rule in enumerate(plan.row_rules):
            out.append(Cell(who, when, rule.code, rule.version, n, int(row[f"r{i}"] or 0)))
    return out


def percent(failed: int, checked: int) -> Decimal | None:
    """failed / checked in percent, four decimals (ROUND_HALF_UP); None when nothing was checked."""
    if checked == 0:
        return None
    return (Decimal(failed) * 100 / Decimal(checked)).quantize(_PP, rounding=ROUND_HALF_UP)


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    year, month = (int(x) for x in str(value)[:7].split("-"))  # a YYYY-MM period counts from its last day
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def freshness(
    plan: CheckPlan, rows: Sequence[Mapping[str, Any]], provider: str, as_of: dt.date
) -> list[dict[str, Any]]:
    """Per freshness rule and provider: the latest value, its age in days and whether it is stale."""
    out = []
    for i, rule in enumerate(plan.freshness):
        latest: dict[str, dt.date] = {}
        for row in rows:
            who = str(row.get("provider") or provider) if plan.by_provider else provider
            day = _as_date(row[f"f{i}"])
            if day is not None and (who not in latest or day > latest[who]):
                latest[who] = day
        for who, day in sorted(latest.items()):
            age = (as_of - day).days
            out.append(
                {
                    "rule": rule.code,
                    "provider": who,
                    "latest": day.isoformat(),
                    "age_days": age,
                    "stale": age > (rule.max_age_days or 0),
                }
            )
    return out


def drift(plan: CheckPlan, rows: Sequence[Mapping[str, Any]], provider: str) -> list[dict[str, Any]]:
    """Per drift rule, provider and period: the statistic and its change from the provider's previous period;
    `drifted` when the change is beyond the bound (null share: absolute; mean: relative to the earlier mean)."""
    out = []
    for i, rule in enumerate(plan.drift):
        series: dict[str, list[tuple[str, Decimal | None]]] = defaultdict(list)
        for row in rows:
            who = str(row.get("provider") or provider) if plan.by_provider else provider
            nulls, n = int(row[f"d{i}_null"] or 0), int(row[f"d{i}_n"] or 0)
            if rule.stat == "null_share":
                stat = Decimal(nulls) / Decimal(nulls + n) if nulls + n else None
            else:
                stat = Decimal(row[f"d{i}_sum"]) / n if n else None
            series[who].append((str(row.get("period", "")), stat))
        bound = Decimal(str(rule.bound))
        for who, points in sorted(series.items()):
            points.sort()
            for (_, before), (period, now) in itertools.pairwise(points):
                if before is None or now is None or (rule.stat == "mean" and before == 0):
                    continue
                change = abs(now - before) if rule.stat == "null_share" else abs(now - before) / abs(before)
                out.append(
                    {
                        "rule": rule.code,
                        "provider": who,
                        "period": period,
                        "value": str(now.quantize(_PP)),
                        "change": str(change.quantize(_PP)),
                        "drifted": change > bound,
                    }
                )
    return out


def with_rejections(found: list[Cell], outstanding: Mapping[tuple[str, str, str], int]) -> list[Cell]:
    """The lake's cells joined with outstanding rejected records, which count as checked and anomalous in their
    (provider, period), with one `ingest.<reason>` cell per reason; every cell of a (provider, period) then has
    the same `checked`: lake records plus outstanding rejections."""
    extra: dict[tuple[str, str], int] = defaultdict(int)
    for (provider, period, _), n in outstanding.items():
        extra[(provider, period)] += n
    base = {(c.provider, c.period): c.checked for c in found if c.rule_code == ALL_RULES}
    out = []
    for c in found:
        add = extra.get((c.provider, c.period), 0)
        failed = c.failed + add if c.rule_code == ALL_RULES else c.failed
        out.append(Cell(c.provider, c.period, c.rule_code, c.rule_version, c.checked + add, failed))
    for (provider, period), n in sorted(extra.items()):
        if (provider, period) not in base:
            out.append(Cell(provider, period, ALL_RULES, 0, n, n))
    for (provider, period, reason), n in sorted(outstanding.items()):
        total = base.get((provider, period), 0) + extra[(provider, period)]
        out.append(Cell(provider, period, f"ingest.{reason}", 0, total, n))
    return out
