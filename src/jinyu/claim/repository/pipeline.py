"""PostgreSQL: the settlement's locked reads and its writes as two pipelines of plain SQL.

Why: a settlement takes about eighteen statements, and on this platform's 2-core machines each one through
SQLAlchemy cost ~0.2 ms of client CPU plus a round trip — the statements, not the rules, were the cost of a
settlement (docs/claims.md). Here they run on the psycopg connection of the session's own transaction
(same transaction, same savepoint), sent in a pipeline: the server still runs them one after another, so a
statement sent after the enrollment's row lock reads what the previous holder committed (READ COMMITTED takes
a snapshot per statement), but the client waits once per pipeline instead of once per statement.

Other databases (SQLite) run the same steps as Core statements (`writes`, `enrollment`, `ledger`); the
service does not know which. Errors come out as SQLAlchemy's exceptions, as from the session.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, cast

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from jinyu.claim.models import ClaimLedgerBook

_BATCH = "jinyu.claim.write_batch"
Statement = tuple[str, list[dict[str, Any]]]


def available(session: Session) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


def _driver(session: Session) -> psycopg.Connection[Any]:
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def _wrapped(exc: psycopg.Error, sql: str) -> sa_exc.DBAPIError:
    """The SQLAlchemy exception the session would have raised for this driver error."""
    kind: type[sa_exc.DBAPIError] = sa_exc.DatabaseError
    if isinstance(exc, psycopg.IntegrityError):
        kind = sa_exc.IntegrityError
    elif isinstance(exc, psycopg.OperationalError):
        kind = sa_exc.OperationalError
    return kind(sql, None, exc)


def run(session: Session, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Send the statements in one pipeline; the rows each one returned (empty for writes)."""
    conn = _driver(session)
    cursors: list[tuple[psycopg.Cursor[Any], bool]] = []
    sql = ""
    try:
        with conn.pipeline():
            for sql, params in statements:
                cur = conn.cursor()
                if len(params) == 1:
                    cur.execute(sql.encode(), params[0], prepare=True)
                    cursors.append((cur, True))
                else:
                    cur.executemany(sql.encode(), params)
                    cursors.append((cur, False))
        return [cur.fetchall() if single and cur.description else [] for cur, single in cursors]
    except psycopg.Error as exc:
        raise _wrapped(exc, sql) from exc


# ------------------------------------------------------------------------------------------------ writes


@contextmanager
def batched_writes(session: Session) -> Iterator[None]:
    """Inside: the claim writes (`writes.*`) are queued; on leaving, sent in one pipeline (PostgreSQL only)."""
    if not available(session) or _BATCH in session.info:
        yield
        return
    session.flush()  # what the unit of work holds goes first: queued rows may refer to it
    queued: list[Statement] = []
    session.info[_BATCH] = queued
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if queued:
        run(session, queued)


def queue(session: Session) -> list[Statement] | None:
    """The open write batch of this session, if any."""
    return cast("list[Statement] | None", session.info.get(_BATCH))


@cache
def insert_sql(table: Table) -> tuple[str, tuple[str, ...]]:
    """INSERT of every column of the table, named placeholders; and the names of its JSON columns."""
    cols = [c.name for c in table.columns]
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(f'%({c})s' for c in cols)})"
    return sql, tuple(c.name for c in table.columns if isinstance(c.type, JSON))


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> Statement:
    sql, json_cols = insert_sql(table)
    params = []
    for row in rows:
        values = {c.name: row.get(c.name) for c in table.columns}
        for name in json_cols:
            values[name] = Json(values[name])
        params.append(values)
    return sql, params


UPSERT_ACCUMULATORS = (
    "INSERT INTO claim_accumulators (enrollment_id, kind, code, amount) "
    "VALUES (%(enrollment_id)s, %(kind)s, %(code)s, %(amount)s) "
    "ON CONFLICT (enrollment_id, kind, code) DO UPDATE SET amount = EXCLUDED.amount"
)
UPDATE_BOOK = (
    "UPDATE claim_ledger_books SET prepaid = %(prepaid)s, held = %(held)s, payable = %(payable)s, "
    "claims = %(claims)s, bank = %(bank)s, updated_at = %(updated_at)s WHERE id = %(book_id)s"
)


# ------------------------------------------------------------------------------------------------ locked reads


@dataclass(frozen=True)
class Locked:
    """What a settlement reads once it holds the person-year's lock (and the books' locks)."""

    status: str
    pre_existing: list[str]
    duplicate: tuple[str, str] | None  # (settlement id, request hash) under the same business key
    amounts: dict[tuple[str, str], Decimal]
    books: dict[str, ClaimLedgerBook]  # insurer id -> locked book (not in the session)


_BOOK_COLUMNS = tuple(c.name for c in cast(Table, ClaimLedgerBook.__table__).columns)
_LOCK_ENROLLMENT = "SELECT status, pre_existing FROM claim_enrollments WHERE id = %(id)s FOR UPDATE"
_DUPLICATE = (
    "SELECT id, request_hash FROM claim_settlements WHERE hospital_id = %(hospital_id)s "
    "AND mdtrt_id = %(mdtrt_id)s AND setl_id = %(setl_id)s AND channel = %(channel)s"
)
_AMOUNTS = "SELECT kind, code, amount FROM claim_accumulators WHERE enrollment_id = %(id)s"
_LOCK_BOOKS = (
    f"SELECT {', '.join(_BOOK_COLUMNS)} FROM claim_ledger_books WHERE insurer_id = ANY(%(insurers)s) "
    "AND hospital_id = %(hospital_id)s AND product_year = %(year)s ORDER BY id FOR UPDATE"
)


def lock_and_read(
    session: Session,
    enrollment_id: str,
    key: Mapping[str, str],
    insurer_ids: Sequence[str],
    year: int,
) -> Locked:
    """Lock the enrollment, then read the business key, the accumulators and lock the books: one round trip."""
    by_id = {"id": enrollment_id}
    books_of = {"insurers": list(insurer_ids), "hospital_id": key["hospital_id"], "year": year}
    enrollment, dup, amounts, books = run(
        session,
        [
            (_LOCK_ENROLLMENT, [by_id]),
            (_DUPLICATE, [dict(key)]),
            (_AMOUNTS, [by_id]),
            (_LOCK_BOOKS, [books_of]),
        ],
    )
    status, pre_existing = enrollment[0]
    return Locked(
        status=status,
        pre_existing=list(pre_existing or []),
        duplicate=(dup[0][0], dup[0][1]) if dup else None,
        amounts={(kind, code): Decimal(amount) for kind, code, amount in amounts},
        books={row[1]: _book(row) for row in books},
    )


def _book(row: tuple[Any, ...]) -> ClaimLedgerBook:
    return ClaimLedgerBook(**dict(zip(_BOOK_COLUMNS, row, strict=True)))
