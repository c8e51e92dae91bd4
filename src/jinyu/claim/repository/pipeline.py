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
from jinyu.core.pipeline import run

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
