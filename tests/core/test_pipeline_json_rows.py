"""Rows sent as one JSON parameter (`json_populate_recordset`) are stored exactly as the statement's own typed
parameters stored them (a JSON column: the same document, compact UTF-8 text since h-bn), and refused the same
way; the statement's text does not depend on the row count."""

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
    select,
    text,
)
from sqlalchemy import exc as sa_exc

from jinyu.core import db
from jinyu.core.pipeline import batched_writes, insert_rows, json_rows, queue

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
    assert a[1:5] == b[1:5] == reference[1:5]
    assert a[6] == b[6] == reference[6]
    assert a[1] == Decimal("12.35")  # hand-computed: 12.345 at scale 2, half away from zero
    assert a[2] == dt.datetime(2025, 3, 1, 0, 30, tzinfo=dt.UTC)
    # the JSON column holds orjson's compact UTF-8 text (written out by hand), where psycopg's Json sent
    # json.dumps' escaped one: the same document
    assert a[5] == b[5] == '{"名称":"中 \\"x\\"","amounts":[1,2.5,{"z":null}],"ok":true}'
    assert (
        reference[5] == '{"\\u540d\\u79f0": "\\u4e2d \\"x\\"", "amounts": [1, 2.5, {"z": null}], "ok": true}'
    )
    assert json.loads(a[5]) == json.loads(reference[5]) == DOC
    with engine.connect() as conn:  # read as the ORM reads a JSON column: the same object, old text or new
        docs = conn.execute(select(t.c.doc).order_by(t.c.id)).scalars().all()
    assert docs == [DOC, DOC, DOC]


def test_times_are_stored_as_typed_parameters_store_them(table: tuple[Engine, Table]) -> None:
    """orjson writes datetimes and dates itself (the json module asked `isoformat`): the same instants."""
    engine, t = table
    times = {
        "u": dt.datetime(2025, 3, 1, 8, 30, 0, 0, tzinfo=dt.UTC),  # no fraction of a second
        "f": dt.datetime(2025, 3, 1, 8, 30, 0, 7, tzinfo=dt.UTC),  # 7 µs
        "e": dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "w": dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
    }
    factory = db.make_sessionmaker(engine)
    with factory() as s:
        with batched_writes(s):
            batch = queue(s)
            assert batch is not None
            batch.append(insert_rows(t, [{"id": k, "at": v, "day": v.date()} for k, v in times.items()]))
        s.commit()
    with engine.connect() as conn:
        got = {r[0]: (r[1], r[2]) for r in conn.execute(select(t.c.id, t.c.at, t.c.day))}
    assert got == {k: (v, v.date()) for k, v in times.items()}
    assert got["e"][0] == dt.datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=dt.UTC)  # by hand


def test_what_orjson_refuses_goes_as_the_json_module_sent_it(table: tuple[Engine, Table]) -> None:
    """A key that is no string and an integer beyond 64 bits: orjson refuses them, the json module wrote them."""
    engine, t = table
    doc = {1: "one", "big": 2**70}
    factory = db.make_sessionmaker(engine)
    with factory() as s:
        with batched_writes(s):
            batch = queue(s)
            assert batch is not None
            batch.append(insert_rows(t, [{"id": "odd", "doc": doc}]))
        s.commit()
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT doc::text FROM {t.name} WHERE id = 'odd'")).scalar_one()
    assert stored == '{"1": "one", "big": 1180591620717411303424}'
    with pytest.raises(TypeError, match="cannot send object as a JSON row value"):
        json_rows([{"id": "x", "doc": object()}])


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
