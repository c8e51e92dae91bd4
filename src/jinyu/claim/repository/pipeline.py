"""PostgreSQL SQL of the settlement path, sent in pipelines (`jinyu.core.pipeline`).

A settlement's reads under the person-year's lock go in one pipeline: the server runs the statements in
order, so those sent after the enrollment's `FOR UPDATE` read what the previous holder committed (READ
COMMITTED takes a snapshot per statement). Its writes are queued by `writes` and go in another.
Other databases run the same steps as separate statements (`settling`, `writes`); the service does not know
which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from jinyu.claim.models import ClaimEnrollment, ClaimLedgerBook, ClaimProduct
from jinyu.core.pipeline import Statement, run, values_sql


def upsert_accumulators(rows: Sequence[tuple[str, str, str, Decimal]]) -> Statement:
    """Set these accumulators (enrollment id, kind, code, amount), inserting the new ones: one statement."""
    sql = values_sql(
        "INSERT INTO claim_accumulators (enrollment_id, kind, code, amount)",
        4,
        len(rows),
        " ON CONFLICT (enrollment_id, kind, code) DO UPDATE SET amount = EXCLUDED.amount",
    )
    return sql, [[v for row in rows for v in row]]


_BALANCES = ("prepaid", "held", "payable", "claims", "bank")


def update_books(rows: Sequence[tuple[str, Mapping[str, Decimal], dt.datetime]]) -> Statement:
    """Set the cached balances of these books (id, balances, updated at): one statement."""
    cast_row = f"(%s, {', '.join(['%s::numeric'] * len(_BALANCES))}, %s::timestamptz)"
    sql = (
        f"UPDATE claim_ledger_books AS b SET {', '.join(f'{n} = v.{n}' for n in _BALANCES)}, "
        f"updated_at = v.updated_at FROM (VALUES {', '.join([cast_row] * len(rows))}) "
        f"AS v(id, {', '.join(_BALANCES)}, updated_at) WHERE b.id = v.id"
    )
    return sql, [[v for book_id, bal, at in rows for v in (book_id, *(bal[n] for n in _BALANCES), at)]]


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


# ------------------------------------------------------------------------------------------------ first reads

_ENROLLMENT_COLUMNS = tuple(c.name for c in cast(Table, ClaimEnrollment.__table__).columns)
_PRODUCT_COLUMNS = tuple(
    c.name for c in cast(Table, ClaimProduct.__table__).columns if c.name != "definition"
)
_MESSAGE = (
    "SELECT settlement_id, request_hash, operation FROM claim_messages "
    "WHERE hospital_id = %(namespace)s AND msg_id = %(msg_id)s"
)
_COVERAGE = (
    f"SELECT {', '.join('e.' + c for c in _ENROLLMENT_COLUMNS)}, {', '.join('p.' + c for c in _PRODUCT_COLUMNS)} "
    "FROM claim_enrollments e JOIN claim_products p ON p.code = e.product_code "
    "WHERE e.person_token = %(token)s AND p.status = 'active' AND p.period_start <= %(day)s "
    "AND p.period_end >= %(day)s AND (%(product_code)s::text IS NULL OR e.product_code = %(product_code)s)"
)


def message_and_coverage(
    session: Session, namespace: str, msg_id: str, token: str, day: dt.date, product_code: str | None
) -> tuple[tuple[str, str, str] | None, list[tuple[ClaimEnrollment, ClaimProduct]]]:
    """The message id's earlier use (settlement id, request hash, operation) and the person's coverage on `day`:
    one round trip. The rows are not in the session; the products come without their definition."""
    message, coverage = run(
        session,
        [
            (_MESSAGE, [{"namespace": namespace, "msg_id": msg_id}]),
            (_COVERAGE, [{"token": token, "day": day, "product_code": product_code}]),
        ],
    )
    split = len(_ENROLLMENT_COLUMNS)
    found = [
        (
            ClaimEnrollment(**dict(zip(_ENROLLMENT_COLUMNS, row[:split], strict=True))),
            ClaimProduct(**dict(zip(_PRODUCT_COLUMNS, row[split:], strict=True))),
        )
        for row in coverage
    ]
    used = (str(message[0][0]), str(message[0][1]), str(message[0][2])) if message else None
    return used, found


# ------------------------------------------------------------------------------------------------ batches


def first_reads_many(
    session: Session, items: Sequence[tuple[str, str, str, dt.date, str | None]]
) -> list[tuple[tuple[str, str, str] | None, list[tuple[ClaimEnrollment, ClaimProduct]]]]:
    """`message_and_coverage` for many bills (namespace, msg id, person token, day, product code): one trip."""
    statements: list[Statement] = []
    for namespace, msg_id, token, day, product_code in items:
        statements.append((_MESSAGE, [{"namespace": namespace, "msg_id": msg_id}]))
        statements.append((_COVERAGE, [{"token": token, "day": day, "product_code": product_code}]))
    rows = run(session, statements)
    return [_first_reads(rows[2 * i], rows[2 * i + 1]) for i in range(len(items))]


def _first_reads(
    message: list[tuple[Any, ...]], coverage: list[tuple[Any, ...]]
) -> tuple[tuple[str, str, str] | None, list[tuple[ClaimEnrollment, ClaimProduct]]]:
    split = len(_ENROLLMENT_COLUMNS)
    found = [
        (
            ClaimEnrollment(**dict(zip(_ENROLLMENT_COLUMNS, row[:split], strict=True))),
            ClaimProduct(**dict(zip(_PRODUCT_COLUMNS, row[split:], strict=True))),
        )
        for row in coverage
    ]
    used = (str(message[0][0]), str(message[0][1]), str(message[0][2])) if message else None
    return used, found


@dataclass(frozen=True)
class PeopleLocked:
    """What a batch of settlements reads under the locks of all its enrollments."""

    enrollments: dict[str, tuple[str, list[str]]]  # id -> (status, pre-existing conditions)
    duplicates: dict[tuple[str, str, str], tuple[str, str]]  # (hospital, mdtrt, setl) -> (id, request hash)
    amounts: dict[str, dict[tuple[str, str], Decimal]]  # enrollment id -> accumulators


_LOCK_ENROLLMENTS = (
    "SELECT id, status, pre_existing FROM claim_enrollments WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE"
)
_DUPLICATES = (
    "SELECT hospital_id, mdtrt_id, setl_id, id, request_hash FROM claim_settlements WHERE channel = 'direct' "
    "AND (hospital_id, mdtrt_id, setl_id) IN "
    "(SELECT * FROM unnest(%(hospitals)s::text[], %(mdtrt)s::text[], %(setl)s::text[]))"
)
_AMOUNTS_MANY = (
    "SELECT enrollment_id, kind, code, amount FROM claim_accumulators WHERE enrollment_id = ANY(%(ids)s)"
)
_LOCK_BOOKS_MANY = (
    f"SELECT {', '.join(_BOOK_COLUMNS)} FROM claim_ledger_books WHERE hospital_id = ANY(%(hospitals)s) "
    "AND insurer_id = ANY(%(insurers)s) AND product_year = ANY(%(years)s) ORDER BY id FOR UPDATE"
)
_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', %(value)s, true)"


def lock_people_many(
    session: Session,
    enrollment_ids: Sequence[str],
    keys: Sequence[tuple[str, str, str]],
    lock_timeout_ms: int | None,
) -> PeopleLocked:
    """Lock the enrollments (id order), then read the business keys and accumulators: one round trip. With a
    lock timeout, it stays set for `lock_books_many`, which resets it."""
    ids = {"ids": sorted(set(enrollment_ids))}
    statements: list[Statement] = []
    if lock_timeout_ms is not None:
        statements.append((_LOCK_TIMEOUT, [{"value": f"{max(lock_timeout_ms, 1)}ms"}]))
    keyed = {"hospitals": [k[0] for k in keys], "mdtrt": [k[1] for k in keys], "setl": [k[2] for k in keys]}
    statements += [(_LOCK_ENROLLMENTS, [ids]), (_DUPLICATES, [keyed]), (_AMOUNTS_MANY, [ids])]
    enrollments, dups, amounts = run(session, statements)[-3:]
    by_enrollment: dict[str, dict[tuple[str, str], Decimal]] = {i: {} for i in ids["ids"]}
    for enrollment_id, kind, code, amount in amounts:
        by_enrollment[enrollment_id][(kind, code)] = Decimal(amount)
    return PeopleLocked(
        enrollments={r[0]: (r[1], list(r[2] or [])) for r in enrollments},
        duplicates={(r[0], r[1], r[2]): (r[3], r[4]) for r in dups},
        amounts=by_enrollment,
    )


def lock_books_many(
    session: Session,
    hospitals: Sequence[str],
    insurers: Sequence[str],
    years: Sequence[int],
    reset_timeout: bool,
) -> dict[tuple[str, str, int], ClaimLedgerBook]:
    """Lock the books of every (hospital, insurer, year) combination, in id order: (insurer, hospital, year) ->
    book, not in the session. Taken last and held briefly: the books are what batches of one hospital share."""
    by = {"hospitals": sorted(set(hospitals)), "insurers": sorted(set(insurers)), "years": sorted(set(years))}
    statements: list[Statement] = [(_LOCK_BOOKS_MANY, [by])]
    if reset_timeout:
        statements.append((_LOCK_TIMEOUT, [{"value": "0"}]))
    books = [_book(row) for row in run(session, statements)[0]]
    return {(b.insurer_id, b.hospital_id, b.product_year): b for b in books}
