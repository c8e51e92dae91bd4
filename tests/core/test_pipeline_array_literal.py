"""Arrays sent as one text literal (`array_literal`) arrive in PostgreSQL as the values they were, whatever
characters they hold, the same arrays psycopg's own list dumping sends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jinyu.core.pipeline import array_literal, run

TRICKY = [
    "plain",
    'a "quoted" one',
    "back\\slash",
    "\\",
    '"',
    "{braces},commas",
    " spaced ",
    "",
    "NULL",
    "中文",
]


def test_the_literal_quotes_every_element_and_escapes_backslash_and_quote() -> None:
    assert array_literal([]) == "{}"
    assert array_literal(["a", None, ""]) == '{"a",NULL,""}'
    assert array_literal(['x"y', "p\\q"]) == '{"x\\"y","p\\\\q"}'
    assert array_literal([dt.date(2025, 6, 2), 2025, None]) == '{"2025-06-02","2025",NULL}'


@pytest.mark.postgres
def test_postgres_reads_back_the_values_psycopg_would_have_sent(postgres_engine: Engine) -> None:
    days = [dt.date(2025, 6, 2), None, dt.date(2024, 2, 29)]
    years = [2025, 1999, -1]
    with Session(postgres_engine) as session:
        (ours,) = run(
            session,
            [
                (
                    "SELECT $1::text[], $2::date[], $3::int[], $4::text[]",
                    [[array_literal(TRICKY), array_literal(days), array_literal(years), array_literal([])]],
                )
            ],
        )
        (theirs,) = run(
            session,
            [("SELECT %(t)s::text[], %(d)s::date[], %(y)s::int[]", [{"t": TRICKY, "d": days, "y": years}])],
        )
    assert ours == [(TRICKY, days, years, [])]
    assert theirs[0] == ours[0][:3]
