"""Working days on the Chinese calendar: official holidays, make-up working days, year ends, the fallback
rule and override tables. Expected dates are read off the State Council's notices (国办发明电), by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jinyu.financing.calendars import load_calendar, parse_year_table
from jinyu.financing.errors import CalendarYearInvalid
from jinyu.financing.sla import WorkCalendar, deadlines

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_calendar(Path("/nonexistent"))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 1), False),  # New Year's Day, a Wednesday
        (D(2025, 1, 26), True),  # Sunday, make-up day before the Spring Festival
        (D(2025, 1, 28), False),  # Spring Festival eve (2025 onwards a holiday)
        (D(2025, 2, 4), False),  # last day of the Spring Festival holiday, a Tuesday
        (D(2025, 2, 8), True),  # Saturday make-up day
        (D(2025, 10, 8), False),  # National Day + Mid-Autumn, 8 days
        (D(2025, 10, 11), True),  # Saturday make-up day
        (D(2026, 2, 14), True),  # Saturday make-up day before the 2026 Spring Festival
        (D(2026, 10, 10), True),  # Saturday make-up day after National Day 2026
        (D(2026, 10, 7), False),
        (D(2026, 12, 7), True),  # an ordinary Monday
        (D(2026, 12, 5), False),  # an ordinary Saturday
    ],
)
def test_working_days(cal: WorkCalendar, day: dt.date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("dispatched", "contact_due", "decision_due"),
    [
        (D(2026, 12, 7), D(2026, 12, 9), D(2026, 12, 21)),  # Monday: plain weeks
        (D(2026, 12, 4), D(2026, 12, 8), D(2026, 12, 18)),  # Friday: the weekend does not count
        # into National Day (10-01..10-07 off); Sat 10-10 is a make-up working day
        (D(2026, 9, 30), D(2026, 10, 9), D(2026, 10, 20)),
        # Fri; Sun 1-26 worked; Spring Festival 1-28..2-04 off; Sat 2-08 worked
        (D(2025, 1, 24), D(2025, 1, 27), D(2025, 2, 13)),
        # across the year end into a year without a table: fallback (Jan 1 off, weekends off)
        (D(2026, 12, 30), D(2027, 1, 4), D(2027, 1, 14)),
    ],
)
def test_deadlines(
    cal: WorkCalendar, dispatched: dt.date, contact_due: dt.date, decision_due: dt.date
) -> None:
    due = deadlines(cal, dispatched)
    assert (due.contact_due, due.decision_due) == (contact_due, decision_due)


def test_working_days_between_counts_the_end_not_the_start(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D(2026, 12, 4), D(2026, 12, 4)) == 0
    assert cal.working_days_between(D(2026, 12, 4), D(2026, 12, 7)) == 1
    assert (
        cal.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    )  # 10-08, 10-09 and the make-up 10-10


def test_an_override_table_replaces_the_year(tmp_path: Path) -> None:
    folder = tmp_path / "financing" / "calendar"
    folder.mkdir(parents=True)
    # A made-up 2027 table: Spring Festival off 2027-02-05..2027-02-11, Sunday 2027-02-14 worked.
    holidays = [f"2027-02-{d:02d}" for d in range(5, 12)] + ["2027-01-01"]
    (folder / "2027.json").write_text(
        f'{{"holidays": {holidays!r}, "workdays": ["2027-02-14"]}}'.replace("'", '"')
    )
    cal = load_calendar(tmp_path)
    assert cal.source(2027).startswith("override")
    assert not cal.is_working_day(D(2027, 2, 8))  # a Monday inside the holiday
    assert cal.is_working_day(D(2027, 2, 14))  # the Sunday make-up day
    assert cal.add_working_days(D(2027, 2, 4), 2) == D(2027, 2, 14)  # Thu → (12 Fri) → Sun 14


@pytest.mark.parametrize(
    "text",
    [
        '{"holidays": ["2026-01-01"]}',
        '{"holidays": ["2027-13-01"]}',
        '{"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}',
        "[1",
    ],
)
def test_bad_override_tables_are_refused(text: str) -> None:
    with pytest.raises(CalendarYearInvalid):
        parse_year_table(2027, text, "2027.json")
