"""Working days on the Chinese calendar and the SLA deadlines of a work order (pure).

A year's table lists its official holidays (放假日) and its make-up working days (调休上班日, usually a
weekend day). A date is a working day when it is a make-up day, else when it is not a holiday and falls
Monday–Friday. Years without a table use the fallback rule (`FALLBACK_HOLIDAYS`): Monday–Friday minus the
solar-date statutory holidays, because the lunar holidays and the make-up days are only known once the State
Council publishes the year's notice — publish an override table for such a year (see docs/financing.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

# (month, day) of the statutory holidays that fall on fixed solar dates: New Year, Labour Day, National Day.
FALLBACK_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

CONTACT_WORKING_DAYS = 2  # first contact within 2 working days after dispatch
DECISION_WORKING_DAYS = 10  # approval or rejection within 10 working days after dispatch


@dataclass(frozen=True)
class YearTable:
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    source: str = "chinese-calendar"


@dataclass(frozen=True)
class WorkCalendar:
    tables: Mapping[int, YearTable] = field(default_factory=dict)

    def source(self, year: int) -> str:
        table = self.tables.get(year)
        return table.source if table else "fallback"

    def is_working_day(self, day: dt.date) -> bool:
        table = self.tables.get(day.year)
        if table is None:
            return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_HOLIDAYS
        if day in table.workdays:
            return True
        return day not in table.holidays and day.weekday() < 5

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `start` (`start` itself is not counted; count ≥ 0)."""
        day, left = start, count
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: 0 when `end` is on or before `start`."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


@dataclass(frozen=True)
class Deadlines:
    contact_due: dt.date
    decision_due: dt.date


def deadlines(
    calendar: WorkCalendar,
    dispatched_on: dt.date,
    contact_days: int = CONTACT_WORKING_DAYS,
    decision_days: int = DECISION_WORKING_DAYS,
) -> Deadlines:
    """Due dates (inclusive, Asia/Shanghai) counted from the local date the order was dispatched."""
    return Deadlines(
        calendar.add_working_days(dispatched_on, contact_days),
        calendar.add_working_days(dispatched_on, decision_days),
    )


def is_overdue(due: dt.date, done_on: dt.date | None, today: dt.date) -> bool:
    """Late when done after the due date, or not done and the due date has passed."""
    return done_on > due if done_on is not None else today > due
