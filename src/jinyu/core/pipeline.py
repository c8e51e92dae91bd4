"""PostgreSQL pipelines: several statements of the session's own transaction sent in one round trip.

Why: on this platform's 2-core machines a statement through SQLAlchemy costs ~0.2 ms of client CPU plus a
round trip, and the hot paths (instant settlement) take many small ones. Statements run here on the psycopg
connection of the session's transaction (same transaction, same savepoints), queued and sent together: the
server still runs them one after another, in order, each with its own snapshot (READ COMMITTED), but the
client waits once per pipeline instead of once per statement.

Other databases run the same statements one by one through SQLAlchemy (callers check `available`). Errors
come out as the SQLAlchemy exceptions the session would have raised.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import orjson
import psycopg
from psycopg.types.json import Json
from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from jinyu.core import pgsend

_BATCH = "jinyu.write_batch"
_PREFIX = "jinyu.pipeline_prefix"
_DRIVER = "jinyu.driver_connection"
_SAVEPOINT = "jinyu_pipeline_sp"
# SQL and its parameter sets: one set (a dict, or a list for %s placeholders) runs once; several, executemany.
Statement = tuple[str, list[Any]]


@dataclass
class Rows:
    """Rows for one statement that takes any number of them (a multi-row INSERT, UPDATE ... FROM VALUES).
    Queued `Rows` of the same `key` are merged into one statement when the batch is sent, in the place of the
    first of them: a batch of many settlements writes each table once."""

    key: Hashable
    rows: list[Any]
    render: Callable[[list[Any], int], Statement]  # (rows, placeholders before them) -> statement


Queued = Statement | Rows


def available(session: Session) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


def _driver(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection of the session's transaction (remembered per transaction: asking the session
    for its connection walks its state machine each time)."""
    transaction = session.get_transaction()
    known = session.info.get(_DRIVER)
    if known is not None and known[0] is transaction:
        return cast(psycopg.Connection[Any], known[1])
    conn = session.connection().connection.driver_connection
    session.info[_DRIVER] = (session.get_transaction(), conn)
    return cast(psycopg.Connection[Any], conn)


def _wrapped(exc: psycopg.Error, sql: str) -> sa_exc.DBAPIError:
    """The SQLAlchemy exception the session would have raised for this driver error."""
    kind: type[sa_exc.DBAPIError] = sa_exc.DatabaseError
    if isinstance(exc, psycopg.IntegrityError):
        kind = sa_exc.IntegrityError
    elif isinstance(exc, psycopg.OperationalError):
        kind = sa_exc.OperationalError
    return kind(sql, None, exc)


def run(session: Session, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Send the statements in one pipeline (after any `first()` ones); the rows each returned (writes: []).

    Positional parameters (one list) come with numbered placeholders (`values_sql`) and are sent as they are;
    psycopg converts `%s` placeholders in Python and caches that only for statements of at most 50 parameters —
    a batch's multi-row statements have hundreds. Parameterless ones are commands (SAVEPOINT, COMMIT), sent as
    written; the others are prepared once used often (a write batch's statement has one text per set of tables
    it writes: its rows are one JSON parameter per table, `json_rows`). One write, one wait: `pgsend`."""
    conn = _driver(session)
    first_ones: list[Statement] = session.info.pop(_PREFIX, [])
    todo = [*first_ones, *statements]
    try:
        results = pgsend.exchange(conn, todo)
    except psycopg.Error as exc:
        raise _wrapped(exc, "; ".join(sql for sql, _ in todo)[:2000]) from exc
    return results[len(first_ones) :]


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Append rows to a table with `COPY ... FROM STDIN` in the session's transaction: for bulk loads of
    thousands of rows, several times faster than INSERTs (no statement per row to parse, bind and answer).
    Values go as psycopg adapts them (a `str` into a json column is parsed as JSON text). Statements queued
    with `first()` are sent before. Row triggers and constraints apply as to INSERTs."""
    if session.info.get(_PREFIX):
        run(session, [])
    conn = _driver(session)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with conn.cursor() as cur, cur.copy(sql.encode()) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise _wrapped(exc, sql) from exc


def first(session: Session, sql: str, params: dict[str, Any] | list[Any] | None = None) -> None:
    """Send this statement at the head of the session's next pipeline (costs no round trip of its own)."""
    session.info.setdefault(_PREFIX, []).append((sql, [params or {}]))


def write(session: Session, sql: str, params: dict[str, Any] | list[Any] | None = None) -> None:
    """Queue a statement into the open write batch, or else send it first with the next pipeline."""
    queued = queue(session)
    if queued is not None:
        queued.append((sql, [params or {}]))
    else:
        first(session, sql, params)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose SAVEPOINT rides on the next pipeline and which is never released (COMMIT ends it):
    no round trip of its own. An error inside rolls the database back to it (one round trip, only then) and
    drops what the unit of work gained inside. Elsewhere than on PostgreSQL: `session.begin_nested()`.

    Inside, reach the database only through pipelines (`run`) or Core statements that do not flush ORM
    objects: rows the unit of work wrote inside would be rolled back under it."""
    if not available(session):
        with session.begin_nested():
            yield
        return
    session.flush()
    marker: Statement = (f"SAVEPOINT {_SAVEPOINT}", [{}])
    pending = session.info.setdefault(_PREFIX, [])
    pending.append(marker)
    try:
        yield
    except BaseException:
        waiting = session.info.get(_PREFIX, [])
        if any(m is marker for m in waiting):  # never sent: nothing to undo in the database
            waiting[:] = [m for m in waiting if m is not marker]
        else:
            try:
                _driver(session).execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}".encode())
            except psycopg.Error as exc:
                raise _wrapped(exc, "ROLLBACK TO SAVEPOINT") from exc
        for obj in list(session.new):  # added inside (the caller flushed before entering)
            session.expunge(obj)
        raise


# ------------------------------------------------------------------------------------------------ writes


@contextmanager
def batched_writes(session: Session, *, then_commit: bool = False) -> Iterator[None]:
    """Inside, writers that look at `queue(session)` queue their statements instead of running them; on
    leaving (without an error), they are sent in one pipeline. PostgreSQL only; elsewhere nothing changes.

    `then_commit`: the transaction's COMMIT goes in the same pipeline, saving its round trip — for a caller
    whose next step is `session.commit()` (which then finds the connection's transaction ended and sends
    nothing). Not when the unit of work gained objects inside the block: they must be flushed before."""
    if not available(session) or _BATCH in session.info:
        yield
        return
    session.flush()  # what the unit of work holds goes first: queued rows may refer to it
    queued: list[Queued] = []
    session.info[_BATCH] = queued
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    # not reached when the block raised: what it queued is dropped with it
    statements = merged(queued)
    if then_commit and not (session.new or session.dirty or session.deleted):
        statements.append(("COMMIT", [{}]))
    if statements:
        run(session, statements)


def queue(session: Session) -> list[Queued] | None:
    """The open write batch of this session, if any."""
    return cast("list[Queued] | None", session.info.get(_BATCH))


def coalesce(queued: Sequence[Queued]) -> list[Statement]:
    """The statements to send: `Rows` of one key merged where the first of them stood, the rest as queued.

    The first appearance keeps the order that matters (a settlement's row before the entries that refer to
    it: every settlement queues its tables in the same order)."""
    return [item.render(item.rows, 0) if isinstance(item, Rows) else item for item in _gathered(queued)]


def _gathered(queued: Sequence[Queued]) -> list[Rows | Statement]:
    merged: dict[Hashable, Rows] = {}
    order: list[Rows | Statement] = []
    for item in queued:
        if isinstance(item, Rows):
            known = merged.get(item.key)
            if known is None:
                merged[item.key] = known = Rows(item.key, [], item.render)
                order.append(known)
            known.rows.extend(item.rows)
        else:
            order.append(item)
    return order


def merged(queued: Sequence[Queued]) -> list[Statement]:
    """`coalesce`, and then each run of consecutive `Rows` (INSERT, upsert, UPDATE ... FROM VALUES) as one
    statement of data-modifying CTEs, `WITH w0 AS (first), w1 AS (second) last`, placeholders numbered on.

    Why: each statement costs a Parse/Bind/Execute on the server and a send-and-poll cycle in psycopg's
    pipeline, whatever its size; a settlement's rows are ~9 statements (profiled: the statements, not the rows,
    were most of the write round trip's CPU on both sides). One statement runs its parts on one snapshot and
    checks foreign keys at its end, so a row may refer to one written by an earlier part; none of these writes
    reads what another writes (inserts, and upserts/updates of rows that existed before), and a table appears
    once (its rows were merged), so no row is modified twice. Errors are those of the parts (a unique
    violation is still an IntegrityError); the transaction is all-or-nothing either way."""
    out: list[Statement] = []
    rows: list[Rows] = []
    for item in [*_gathered(queued), None]:
        if isinstance(item, Rows):
            rows.append(item)
            continue
        if len(rows) == 1:
            out.append(rows[0].render(rows[0].rows, 0))
        elif rows:
            out.append(_with_ctes(rows))
        rows = []
        if item is not None:
            out.append(item)
    return out


def _with_ctes(items: list[Rows]) -> Statement:
    """Each part rendered with its placeholders after those of the parts before it."""
    parts: list[str] = []
    values: list[Any] = []
    for item in items:
        sql, params = item.render(item.rows, len(values))
        parts.append(sql)
        values.extend(params[0])
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(parts[:-1]))
    return f"WITH {ctes} {parts[-1]}", [values]


def values_sql(
    head: str, width: int, rows: int, tail: str = "", casts: Sequence[str] = (), start: int = 0
) -> str:
    """`head VALUES ($1, ...), ($n, ...) tail`: many rows in one statement (one execution, one result), with
    PostgreSQL's own numbered placeholders (see `run`), the first `$start + 1`; `casts` optionally types each
    column (`::numeric`)."""
    kinds = list(casts) or [""] * width
    first = start + 1
    values = (
        "(" + ", ".join(f"${first + r * width + c}{kinds[c]}" for c in range(width)) + ")"
        for r in range(rows)
    )
    return f"{head} VALUES {', '.join(values)}{tail}"


def array_literal(values: Iterable[str | int | dt.date | None]) -> str:
    """The values as one PostgreSQL array literal (`{"a","b",NULL}`), to send as a text parameter cast in the
    SQL (`$1::text[]`, `::date[]`, `::int[]`) with a positional statement (`run` sends it as it is).

    Why: psycopg dumps a Python list by looking at its elements in Python, every time (which type, which
    array type, then each element): the batch's first reads and locks send 15 arrays per transaction and that
    was ~10 % of the settlement thread's CPU (cProfile, batches of one). A string goes through psycopg's C
    dumper. Every element is quoted, with backslash and double quote escaped (PostgreSQL's array input rules),
    so any text arrives as it was; None is NULL. Dates in ISO form, integers in decimal: each element is read
    by the element type's input function, as psycopg's own text dumping was."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(value: str | int | dt.date) -> str:
    text = (
        value if isinstance(value, str) else value.isoformat() if isinstance(value, dt.date) else str(value)
    )
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def json_rows(rows: Sequence[Mapping[str, Any]]) -> Json:
    """Rows as one JSON document (a list of objects), for `json_populate_recordset`: amounts and times as
    strings in their PostgreSQL input form, JSON columns' values as nested documents.

    Why one document: a statement that takes its rows as `json_populate_recordset(NULL::table, $n)` has the
    same text whatever the number of rows, so PostgreSQL parses and plans it once per connection (psycopg
    prepares a statement after a few runs), where a `VALUES` list of a new length was parsed and planned anew
    for every batch — at 300/s batches hold one to four settlements and that was most of a batch's PostgreSQL
    CPU. psycopg's own array dumping (the other way to send rows as one parameter) quoted every element in
    Python and cost more than the planning saved.

    The document is made by orjson, as UTF-8 bytes handed to psycopg as they are (a `json` parameter, no
    `str` in between): the json module's encoder, with every non-ASCII character of the bilingual names
    escaped as `\\uXXXX`, and the decoding and re-encoding of the text, were ~13 % of the settling thread's
    Python (docs/claims.md, h-bn). Anything orjson refuses (a key that is not a string, an integer beyond 64
    bits, a lone surrogate, a type neither knows) goes through the json module as before, with its error.

    The values are converted by the columns' input functions, as the statement's parameters were: a too-long
    string or a bad number is refused the same way. A JSON column's nested document is stored as this text
    (compact, UTF-8; before h-bn: `json.dumps` with its default separators and `\\uXXXX` escapes): every reader
    decodes it to the same object (nothing hashes or compares the stored text of a `json` column; the audit
    chain's `subject_ids` and `detail` are text columns, whose strings arrive unchanged)."""
    try:
        data = orjson.dumps(rows, default=_json_scalar)
    except orjson.JSONEncodeError:
        data = json.dumps(rows, default=_json_scalar).encode()
    return Json(data, dumps=_as_is)


def _as_is(data: Any) -> Any:
    return data


def _json_scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):  # the json module's path (orjson writes both itself)
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as a JSON row value")


def from_json_rows(table: str, start: int = 0) -> str:
    """`json_populate_recordset(NULL::table, $n::json)`: the rows of one `json_rows` parameter, typed as the
    table's columns (keys missing from a row are NULL)."""
    return f"json_populate_recordset(NULL::{table}, ${start + 1}::json)"


@lru_cache(maxsize=512)
def _insert_json_sql(table: Table, start: int) -> str:
    names = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {from_json_rows(table.name, start)}"


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> Rows:
    """An INSERT of these rows (every column; missing keys are NULL), mergeable with others of the table.

    Each row is sent as it is (a copy, so later changes to the caller's dict do not leak in), keyed by column
    name: `json_populate_recordset` makes a missing key NULL and ignores a key that is no column, so filling
    every column in Python (~2 % of a batch's Python) changed nothing but the document's length."""
    values = [dict(row) for row in rows]
    return Rows(("insert", table.name), values, lambda merged, start: _insert_statement(table, merged, start))


def _insert_statement(table: Table, rows: list[Any], start: int) -> Statement:
    return _insert_json_sql(table, start), [[json_rows(rows)]]
