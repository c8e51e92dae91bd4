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
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session, configure_mappers

from jinyu.claim.models import ClaimEnrollment, ClaimLedgerBook, ClaimProduct
from jinyu.claim.rules.ledger import Account
from jinyu.core.db import Base
from jinyu.core.pipeline import Rows, Statement, array_literal, from_json_rows, json_rows, run


def upsert_accumulators(rows: Sequence[tuple[str, str, str, Decimal]]) -> Rows:
    """Set these accumulators (enrollment id, kind, code, amount), inserting the new ones; mergeable (a batch
    never has one accumulator twice: one settlement per person)."""
    return Rows(("upsert", "claim_accumulators"), list(rows), _upsert_statement)


def _upsert_statement(rows: list[Any], start: int = 0) -> Statement:
    sql = (
        "INSERT INTO claim_accumulators (enrollment_id, kind, code, amount) "
        f"SELECT enrollment_id, kind, code, amount FROM {from_json_rows('claim_accumulators', start)} "
        "ON CONFLICT (enrollment_id, kind, code) DO UPDATE SET amount = EXCLUDED.amount"
    )
    keyed = [{"enrollment_id": e, "kind": k, "code": c, "amount": a} for e, k, c, a in rows]
    return sql, [[json_rows(keyed)]]


BALANCE_FIELDS = tuple(a.value for a in Account)  # the book columns that cache account balances


def update_books(rows: Sequence[tuple[str, Mapping[str, Decimal], dt.datetime]]) -> Rows:
    """Set the cached balances of these books (id, balances, updated at); mergeable: of a book moved several
    times in a batch, the last balances are written (each was computed from the one before)."""
    return Rows(("update", "claim_ledger_books"), list(rows), _books_statement)


def _books_statement(rows: list[Any], start: int = 0) -> Statement:
    last = {book_id: (bal, at) for book_id, bal, at in rows}  # the latest of each book
    keyed = [
        {"id": book_id, **{n: bal[n] for n in BALANCE_FIELDS}, "updated_at": at}
        for book_id, (bal, at) in last.items()
    ]
    sql = (
        f"UPDATE claim_ledger_books AS b SET {', '.join(f'{n} = v.{n}' for n in BALANCE_FIELDS)}, "
        f"updated_at = v.updated_at FROM {from_json_rows('claim_ledger_books', start)} AS v WHERE b.id = v.id"
    )
    return sql, [[json_rows(keyed)]]


# ------------------------------------------------------------------------------------------------ locked reads


@dataclass(frozen=True)
class Locked:
    """What a settlement reads once it holds the person-year's lock (and the books' locks)."""

    status: str
    pre_existing: list[str]
    duplicate: tuple[str, str] | None  # (settlement id, request hash) under the same business key
    active: (
        tuple[str, str, str, str] | None
    )  # the visit's settlement in force: (id, setl_id, status, channel)
    amounts: dict[tuple[str, str], Decimal]
    books: dict[str, ClaimLedgerBook]  # insurer id -> locked book (not in the session)


_BOOK_COLUMNS = tuple(c.name for c in cast(Table, ClaimLedgerBook.__table__).columns)
_LOCK_ENROLLMENT = "SELECT status, pre_existing FROM claim_enrollments WHERE id = %(id)s FOR UPDATE"
_DUPLICATE = (
    "SELECT id, request_hash FROM claim_settlements WHERE hospital_id = %(hospital_id)s "
    "AND mdtrt_id = %(mdtrt_id)s AND setl_id = %(setl_id)s AND channel = %(channel)s"
)
_ACTIVE_IN_VISIT = (
    "SELECT id, setl_id, status, channel FROM claim_settlements WHERE hospital_id = %(hospital_id)s "
    "AND mdtrt_id = %(mdtrt_id)s AND status IN ('pending', 'settled') AND NOT interim ORDER BY created_at, id "
    "LIMIT 1"
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
    """Lock the enrollment, then read the business key, the visit's settlement in force, the accumulators and
    lock the books: one round trip."""
    by_id = {"id": enrollment_id}
    books_of = {"insurers": list(insurer_ids), "hospital_id": key["hospital_id"], "year": year}
    visit = {"hospital_id": key["hospital_id"], "mdtrt_id": key["mdtrt_id"]}
    enrollment, dup, active, amounts, books = run(
        session,
        [
            (_LOCK_ENROLLMENT, [by_id]),
            (_DUPLICATE, [dict(key)]),
            (_ACTIVE_IN_VISIT, [visit]),
            (_AMOUNTS, [by_id]),
            (_LOCK_BOOKS, [books_of]),
        ],
    )
    status, pre_existing = enrollment[0]
    return Locked(
        status=status,
        pre_existing=list(pre_existing or []),
        duplicate=(dup[0][0], dup[0][1]) if dup else None,
        active=(active[0][0], active[0][1], active[0][2], active[0][3]) if active else None,
        amounts={(kind, code): Decimal(amount) for kind, code, amount in amounts},
        books={row[1]: _book(row) for row in books},
    )


def _book(row: tuple[Any, ...]) -> ClaimLedgerBook:
    return _as_loaded(ClaimLedgerBook, _BOOK_COLUMNS, row)


Model = TypeVar("Model", bound=Base)


def _as_loaded(model: type[Model], columns: Sequence[str], values: Sequence[Any]) -> Model:
    """A model object (not in any session) holding these column values as loaded ones, built the way the ORM's
    own loader builds its objects: the constructor would instead fire a change event per attribute (~100 per
    settlement, ~5 % of its CPU) to record history nobody reads."""
    if not model.__mapper__.configured:  # as the constructor would (a fresh process's first object)
        configure_mappers()
    obj = cast(Model, model.__mapper__.class_manager.new_instance())
    obj.__dict__.update(zip(columns, values, strict=True))
    return obj


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
    return _first_reads(message[0] if message else None, coverage)


# ------------------------------------------------------------------------------------------------ batches
# Positional statements ($n) whose arrays go as text literals cast in the SQL (`array_literal`: psycopg's own
# list dumping was ~10 % of a batch's Python); each parameter list below is in placeholder order.


_MESSAGES_MANY = (
    "SELECT m.hospital_id, m.msg_id, m.settlement_id, m.request_hash, m.operation FROM claim_messages m "
    "JOIN unnest($1::text[], $2::text[]) AS q(namespace, msg_id) "
    "ON m.hospital_id = q.namespace AND m.msg_id = q.msg_id"
)
_COVERAGE_MANY = (
    f"SELECT q.n, {', '.join('e.' + c for c in _ENROLLMENT_COLUMNS)}, {', '.join('p.' + c for c in _PRODUCT_COLUMNS)} "
    "FROM unnest($1::text[], $2::date[], $3::text[]) "
    "WITH ORDINALITY AS q(token, day, product_code, n) "
    "JOIN claim_enrollments e ON e.person_token = q.token "
    "JOIN claim_products p ON p.code = e.product_code "
    "WHERE p.status = 'active' AND p.period_start <= q.day AND p.period_end >= q.day "
    "AND (q.product_code IS NULL OR e.product_code = q.product_code)"
)


def first_reads_many(
    session: Session, items: Sequence[tuple[str, str, str, dt.date, str | None]]
) -> list[tuple[tuple[str, str, str] | None, list[tuple[ClaimEnrollment, ClaimProduct]]]]:
    """`message_and_coverage` for many bills (namespace, msg id, person token, day, product code): two
    statements, one round trip."""
    namespaces, msg_ids, tokens, days, products = _arrays(items, 5)
    messages, coverage = run(
        session,
        [(_MESSAGES_MANY, [[namespaces, msg_ids]]), (_COVERAGE_MANY, [[tokens, days, products]])],
    )
    used = {(r[0], r[1]): r[2:] for r in messages}
    covering: dict[int, list[tuple[Any, ...]]] = {}
    for row in coverage:
        covering.setdefault(int(row[0]) - 1, []).append(row[1:])
    return [_first_reads(used.get((i[0], i[1])), covering.get(n, [])) for n, i in enumerate(items)]


def _first_reads(
    message: tuple[Any, ...] | None, coverage: list[tuple[Any, ...]]
) -> tuple[tuple[str, str, str] | None, list[tuple[ClaimEnrollment, ClaimProduct]]]:
    split = len(_ENROLLMENT_COLUMNS)
    found = [
        (
            _as_loaded(ClaimEnrollment, _ENROLLMENT_COLUMNS, row[:split]),
            _as_loaded(ClaimProduct, _PRODUCT_COLUMNS, row[split:]),
        )
        for row in coverage
    ]
    used = (str(message[0]), str(message[1]), str(message[2])) if message else None
    return used, found


@dataclass(frozen=True)
class PeopleLocked:
    """What a batch of settlements reads under the locks of all its enrollments and books."""

    enrollments: dict[str, tuple[str, list[str]]]  # id -> (status, pre-existing conditions)
    duplicates: dict[tuple[str, str, str], tuple[str, str]]  # (hospital, mdtrt, setl) -> (id, request hash)
    active_visits: set[tuple[str, str]]  # (hospital, mdtrt) with a settlement in force
    amounts: dict[str, dict[tuple[str, str], Decimal]]  # enrollment id -> accumulators
    books: dict[tuple[str, str, int], ClaimLedgerBook]  # (insurer, hospital, year) -> locked book


_LOCK_ENROLLMENTS = (
    "SELECT id, status, pre_existing FROM claim_enrollments WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE"
)
_DUPLICATES = (
    "SELECT hospital_id, mdtrt_id, setl_id, id, request_hash FROM claim_settlements WHERE channel = 'direct' "
    "AND (hospital_id, mdtrt_id, setl_id) IN "
    "(SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
)
_ACTIVE_VISITS = (
    "SELECT DISTINCT hospital_id, mdtrt_id FROM claim_settlements WHERE status IN ('pending', 'settled') "
    "AND NOT interim AND (hospital_id, mdtrt_id) IN "
    "(SELECT * FROM unnest($1::text[], $2::text[]))"
)
_AMOUNTS_MANY = (
    "SELECT enrollment_id, kind, code, amount FROM claim_accumulators WHERE enrollment_id = ANY($1::text[])"
)
_LOCK_BOOKS_MANY = (
    f"SELECT {', '.join(_BOOK_COLUMNS)} FROM claim_ledger_books WHERE hospital_id = ANY($1::text[]) "
    "AND insurer_id = ANY($2::text[]) AND product_year = ANY($3::int[]) ORDER BY id FOR UPDATE"
)
_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', %(value)s, true)"
# The locked reads' plans: generic ones, kept by the prepared statements, for this round trip only. Why: with
# PostgreSQL's default (`auto`) the reads by `= ANY($n)` of an array of unknown length (enrollments, accumulators,
# books) never switch to their generic plan, whose estimate assumes a longer array than a small batch sends, so
# each run was planned anew: planning was ~23 % of the settling backend's CPU at batches of one (perf), and
# forcing the generic plans cut PostgreSQL's CPU per settlement 0.87× in-process (docs/claims.md, issue 20, h-bu).
# Their generic plans are index scans, except where a table is small enough to read whole (the books; the
# accumulators of a small enrolment); `core.upkeep` re-analyses growing tables, which re-plans them.
_GENERIC_PLANS: Statement = ("SET LOCAL plan_cache_mode = force_generic_plan", [[]])
_PLANS_AS_BEFORE: Statement = ("SET LOCAL plan_cache_mode = DEFAULT", [[]])


BooksOf = tuple[Sequence[str], Sequence[str], Sequence[int]]  # hospitals, insurers, years: every combination


def lock_people_and_books(
    session: Session,
    enrollment_ids: Sequence[str],
    keys: Sequence[tuple[str, str, str]],
    books_of: BooksOf,
    lock_timeout_ms: int | None,
) -> PeopleLocked:
    """Lock the enrollments, read the business keys, the visits' settlements in force and the accumulators
    under those locks, then lock the
    books of every (hospital, insurer, year) combination — each kind in id order, enrollments before books,
    the order single settlements take them in: one round trip. A lock timeout applies to these locks only."""
    sorted_ids = sorted(set(enrollment_ids))
    ids = [array_literal(sorted_ids)]
    hospitals, mdtrt, setl = _arrays(keys, 3)
    statements: list[Statement] = [
        (_LOCK_ENROLLMENTS, [ids]),
        (_DUPLICATES, [[hospitals, mdtrt, setl]]),
        (_ACTIVE_VISITS, [[hospitals, mdtrt]]),
        (_AMOUNTS_MANY, [ids]),
        (_LOCK_BOOKS_MANY, [_books_params(books_of)]),
    ]
    if lock_timeout_ms is not None:
        statements.insert(0, (_LOCK_TIMEOUT, [{"value": f"{max(lock_timeout_ms, 1)}ms"}]))
        statements.append((_LOCK_TIMEOUT, [{"value": "0"}]))
    statements = [_GENERIC_PLANS, *statements, _PLANS_AS_BEFORE]
    first = 2 if lock_timeout_ms is not None else 1
    enrollments, dups, active, amounts, books = run(session, statements)[first : first + 5]
    by_enrollment: dict[str, dict[tuple[str, str], Decimal]] = {i: {} for i in sorted_ids}
    for enrollment_id, kind, code, amount in amounts:
        by_enrollment[enrollment_id][(kind, code)] = Decimal(amount)
    return PeopleLocked(
        enrollments={r[0]: (r[1], list(r[2] or [])) for r in enrollments},
        duplicates={(r[0], r[1], r[2]): (r[3], r[4]) for r in dups},
        active_visits={(r[0], r[1]) for r in active},
        amounts=by_enrollment,
        books=_books_by_key(books),
    )


def _arrays(rows: Sequence[Sequence[Any]], width: int) -> list[str]:
    """The rows' columns, each as one array literal (none for no rows: empty arrays)."""
    return [array_literal(row[i] for row in rows) for i in range(width)]


def _books_params(books_of: BooksOf) -> list[str]:
    """Hospitals, insurers, years: each distinct, sorted, as array literals."""
    hospitals, insurers, years = books_of
    return [
        array_literal(sorted(set(hospitals))),
        array_literal(sorted(set(insurers))),
        array_literal(sorted(set(years))),
    ]


def _books_by_key(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, int], ClaimLedgerBook]:
    books = [_book(row) for row in rows]
    return {(b.insurer_id, b.hospital_id, b.product_year): b for b in books}
