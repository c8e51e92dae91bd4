"""Loads the working-day calendar: the `chinese-calendar` package's tables, replaced year by year by
override files `<data dir>/financing/calendar/<year>.json` ({"holidays": [...], "workdays": [...]})."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]

from jinyu.core.errors import FieldError
from jinyu.financing.errors import CalendarYearInvalid
from jinyu.financing.sla import WorkCalendar, YearTable


@cache
def package_tables() -> dict[int, YearTable]:
    holidays: dict[int, set[dt.date]] = defaultdict(set)
    workdays: dict[int, set[dt.date]] = defaultdict(set)
    for day in chinese_calendar.constants.holidays:
        holidays[day.year].add(day)
    for day in chinese_calendar.constants.workdays:
        workdays[day.year].add(day)
    source = f"chinese-calendar {chinese_calendar.__version__}"
    return {
        year: YearTable(frozenset(holidays[year]), frozenset(workdays[year]), source)
        for year in sorted(set(holidays) | set(workdays))
    }


def parse_year_table(year: int, text: str, origin: str) -> YearTable:
    """One override file: every date must be ISO `YYYY-MM-DD` within `year`; a date may not be both."""
    try:
        raw = json.loads(text)
        holidays = frozenset(dt.date.fromisoformat(d) for d in raw.get("holidays", []))
        workdays = frozenset(dt.date.fromisoformat(d) for d in raw.get("workdays", []))
    except (ValueError, TypeError, AttributeError) as exc:
        raise CalendarYearInvalid(detail=f"{origin}: {exc}") from None
    problems = [d for d in holidays | workdays if d.year != year]
    if problems:
        raise CalendarYearInvalid(
            detail=origin, fields=[FieldError("dates", f"不属于 {year} 年 / not in {year}: {problems[0]}")]
        )
    if holidays & workdays:
        raise CalendarYearInvalid(detail=f"{origin}: 同一天既是假日又是工作日 / a date is both")
    return YearTable(holidays, workdays, f"override {origin}")


def load_calendar(data_dir: Path) -> WorkCalendar:
    tables = dict(package_tables())
    folder = data_dir / "financing" / "calendar"
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            if path.stem.isdigit():
                tables[int(path.stem)] = parse_year_table(int(path.stem), path.read_text("utf-8"), path.name)
    return WorkCalendar(tables)
