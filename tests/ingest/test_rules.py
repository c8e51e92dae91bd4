from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jinyu.governance.contracts import CONTRACTS, Column, Kind, Level
from jinyu.ingest.rules import REASONS, Rejected, coerce, validate_row
from tests.fixtures.auth import resident_id, uscc

AMOUNT = Column("amount", Kind.DECIMAL, Level.SENSITIVE, "", min_value=0.01)
TS = Column("ts", Kind.TIMESTAMP, Level.INTERNAL, "")
OPTIONAL = Column("memo", Kind.STRING, Level.SENSITIVE, "", required=False)


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        (AMOUNT, "12.50", Decimal("12.50")),
        (AMOUNT, "7", Decimal("7.00")),
        (TS, "2026-01-31T23:30:00", dt.datetime(2026, 1, 31, 15, 30, tzinfo=dt.UTC)),  # Shanghai → UTC
        (TS, "2026-01-31T23:30:00+00:00", dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)),
        (OPTIONAL, "", None),
        (Column("b", Kind.BOOL, Level.PUBLIC, ""), "1", True),
        (Column("m", Kind.MONTH, Level.PUBLIC, ""), "2026-02", "2026-02"),
    ],
)
def test_coerce_accepts(column: Column, raw: str, expected: object) -> None:
    assert coerce(column, raw) == expected


@pytest.mark.parametrize(
    ("column", "raw", "reason"),
    [
        (AMOUNT, "", "missing_required"),
        (AMOUNT, "1.001", "too_many_decimals"),
        (AMOUNT, "abc", "bad_type"),
        (AMOUNT, "0.00", "below_min"),
        (AMOUNT, "NaN", "bad_type"),
        (TS, "31/01/2026", "bad_type"),
        (Column("m", Kind.MONTH, Level.PUBLIC, ""), "2026-13", "bad_type"),
        (CONTRACTS["enterprises"].column("uscc"), "91500000MA00000000", "bad_check"),
        (CONTRACTS["enterprises"].column("status"), "zombie", "bad_choice"),
    ],
)
def test_coerce_rejects_with_reason(column: Column, raw: str, reason: str) -> None:
    with pytest.raises(Rejected) as exc:
        coerce(column, raw)
    assert exc.value.reason == reason and reason in REASONS


def test_validate_row_lists_every_problem() -> None:
    row = {
        "uscc": "bad",
        "name": "",
        "industry_code": "C3974",
        "district_code": "500101",
        "registered_capital": "100.00",
        "established_on": "2020-01-01",
        "address": "a",
        "phone": "",
        "legal_rep_id": resident_id(),
        "legal_rep_name": "张三",
        "status": "active",
    }
    typed, problems = validate_row(CONTRACTS["enterprises"], row)
    assert typed is None
    assert problems == ["bad_check:uscc", "missing_required:name"]
    row.update(uscc=uscc(), name="ok")
    typed, problems = validate_row(CONTRACTS["enterprises"], row)
    assert problems == [] and typed is not None and typed["phone"] is None
