"""The region's 24-month window and its working-day calendar.

All times are Asia/Shanghai wall-clock (UTC+8, no daylight saving), turned into UTC epoch seconds for storage.
The public holidays and make-up working days are the State Council schedules for 2023 and 2024.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

REFERENCE_DATE = dt.date(
    2024, 12, 31
)  # the region is "as of" this date; the window is the 24 months up to it
MONTHS = 24
FIRST_MONTH = dt.date(2023, 1, 1)
_EPOCH = dt.date(1970, 1, 1)
_SHANGHAI_OFFSET = 8 * 3600


def _span(first: str, last: str) -> set[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}


HOLIDAYS: frozenset[dt.date] = frozenset(
    _span("2023-01-01", "2023-01-02")
    | _span("2023-01-21", "2023-01-27")
    | _span("2023-04-05", "2023-04-05")
    | _span("2023-04-29", "2023-05-03")
    | _span("2023-06-22", "2023-06-24")
    | _span("2023-09-29", "2023-10-06")
    | _span("2024-01-01", "2024-01-01")
    | _span("2024-02-10", "2024-02-17")
    | _span("2024-04-04", "2024-04-06")
    | _span("2024-05-01", "2024-05-05")
    | _span("2024-06-10", "2024-06-10")
    | _span("2024-09-15", "2024-09-17")
    | _span("2024-10-01", "2024-10-07")
)
MAKEUP_WORKDAYS: frozenset[dt.date] = frozenset(
    dt.date.fromisoformat(d)
    for d in (
        "2023-01-28",
        "2023-01-29",
        "2023-04-23",
        "2023-05-06",
        "2023-06-25",
        "2023-10-07",
        "2023-10-08",
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
    )
)


def is_working_day(day: dt.date) -> bool:
    if day in MAKEUP_WORKDAYS:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS


def epoch(day: dt.date, seconds_of_day: int = 0) -> int:
    """UTC epoch seconds of a Shanghai wall-clock time."""
    return (day - _EPOCH).days * 86400 + seconds_of_day - _SHANGHAI_OFFSET


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Calendar:
    """Month m (0..23) of the window; its days and working days as dates."""

    first: dt.date = FIRST_MONTH
    months: int = MONTHS
    days: tuple[tuple[dt.date, ...], ...] = field(init=False)
    working_days: tuple[tuple[dt.date, ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        days = []
        for m in range(self.months):
            start, end = add_months(self.first, m), add_months(self.first, m + 1)
            days.append(tuple(start + dt.timedelta(days=i) for i in range((end - start).days)))
        object.__setattr__(self, "days", tuple(days))
        object.__setattr__(
            self, "working_days", tuple(tuple(d for d in ds if is_working_day(d)) for ds in days)
        )

    @property
    def start(self) -> dt.date:
        return self.first

    @property
    def end(self) -> dt.date:
        """Last day of the window (the reference date)."""
        return self.days[-1][-1]

    def period(self, m: int) -> str:
        day = add_months(self.first, m)
        return f"{day.year:04d}-{day.month:02d}"

    def month_of(self, day: dt.date) -> int:
        """Window month index of a date; negative before the window, >= months after it."""
        return (day.year - self.first.year) * 12 + day.month - self.first.month

    def nth_working_day(self, m: int, n: int) -> dt.date:
        """The n-th (0-based) working day of month m, clamped to the month's last working day."""
        days = self.working_days[m]
        return days[min(n, len(days) - 1)]
