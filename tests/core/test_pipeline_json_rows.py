"""Rows sent as one JSON parameter (`json_populate_recordset`) are stored exactly as the statement's own typed
parameters stored them, and refused the same way; the statement's text does not depend on the row count."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy import exc as sa_exc

from jinyu.core import db
from jinyu.core.pipeline import batched_writes, insert_rows, queue

pytestmark = pytest.mark.postgres

DOC = {"名称": '中 "x"', "amounts": [1, 2.5, {"z": None}], "ok": True}


@pytest.fixture
def table(postgres_engine: Engine) -> Iterator[tuple[Engine, Table]]:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    t = Table(
        f"json_rows_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", String(8), primary_key=True),
        Column("amount", Numeric(18, 2)),
        Column("at", DateTime(timezone=True)),
        Column("day", Date),
        Column("n", Integer),
        Column("doc", JSON),
        Column("note", Text),
    )
    t.create(engine)
    try:
        yield engine, t
    finally:
        t.drop(engine)
        engine.dispose()


def _row(key: str) -> dict[str, object]:
    return {
        "id": key,
        "amount": Decimal("12.345"),  # rounded to the column's scale, as a parameter would be
        "at": dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "day": dt.date(2025, 3, 1),
        "n": None,
        "doc": DOC,
        "note": 'text with "quotes", commas, {braces} and 中文',
    }


def test_rows_are_stored_as_typed_parameters_store_them(table: tuple[Engine, Table]) -> None:
    engine, t = table
    factory = db.make_sessionmaker(engine)
    with factory() as s:
        with batched_writes(s):
            batch = queue(s)
            assert batch is not None
            batch.append(insert_rows(t, [_row("a"), _row("b")]))
        # the reference row, through psycopg's own typed parameters
        ref = _row("ref")
        s.execute(
            text(f"INSERT INTO {t.name} VALUES (:id, :amount, :at, :day, :n, :doc, :note)"),
            {**ref, "doc": Json(DOC)},  # as the VALUES lists sent it
        )
        s.commit()
    with engine.connect() as conn:
        got = conn.execute(
            text(f"SELECT id, amount, at, day, n, doc::text, note FROM {t.name} ORDER BY id")
        ).all()
    assert [r[0] for r in got] == ["a", "b", "ref"]
    a, b, reference = got
    assert a[1:] == b[1:] == reference[1:]
    assert a[1] == Decimal("12.35")  # hand-computed: 12.345 at scale 2, half away from zero
    assert a[2] == dt.datetime(2025, 3, 1, 0, 30, tzinfo=dt.UTC)
    # the JSON column holds the text psycopg's Json sent (json.dumps, default separators), byte for byte
    assert a[5] == json.dumps(DOC)


def test_a_value_too_long_for_its_column_is_refused(table: tuple[Engine, Table]) -> None:
    engine, t = table
    factory = db.make_sessionmaker(engine)
    with factory() as s, pytest.raises(sa_exc.DBAPIError, match="too long"), batched_writes(s):
        batch = queue(s)
        assert batch is not None
        batch.append(insert_rows(t, [_row("far-too-long")]))  # String(8): not cut, refused


def test_the_statement_text_does_not_depend_on_the_row_count(table: tuple[Engine, Table]) -> None:
    _, t = table
    one = insert_rows(t, [_row("a")])
    three = insert_rows(t, [_row("a"), _row("b"), _row("c")])
    assert one.render(one.rows, 0)[0] == three.render(three.rows, 0)[0]
