"""Every SQL statement on the claim tables, one module per area, re-exported here.

`readable_*(principal)` scopes rows to the caller:
a hospital sees its own settlements and books; an insurer its products, enrollments, claims and books.

Row locks: `lock_enrollment` and `lock_book` are the mutexes of a person-year and of a prepaid book. On
PostgreSQL they are `SELECT ... FOR UPDATE`; SQLite has no row locks and serialises writers from a
transaction's first write, so a no-op UPDATE takes the write lock before the row is read.
Lock order everywhere: enrollment, then books (by insurer id), then the audit head.
"""

from __future__ import annotations

from jinyu.claim.repository.common import is_lock_timeout, set_lock_timeout
from jinyu.claim.repository.enrollment import (
    accumulator_entries_of,
    accumulator_entry_sums,
    accumulators,
    coverage_on,
    find_enrollment,
    get_enrollment,
    list_enrollments,
    lock_enrollment,
    readable_enrollments,
)
from jinyu.claim.repository.ledger import (
    book_postings,
    find_book,
    get_book,
    journal_by_reference,
    journals,
    journals_of_settlement,
    list_alerts,
    list_books,
    lock_book,
    lock_books,
    lock_books_of,
    open_alert,
    postings_of,
    readable_alerts,
    readable_books,
)
from jinyu.claim.repository.pipeline import Locked
from jinyu.claim.repository.products import (
    active_product,
    active_products_on,
    get_product,
    get_product_unscoped,
    insurer_in_product_code,
    list_products,
    product_insurers,
    product_version_exists,
    readable_products,
)
from jinyu.claim.repository.reports import (
    get_run,
    latest_product,
    list_runs,
    payout_report,
    premium_by_insurer,
    readable_runs,
    run_for_file,
    run_items,
)
from jinyu.claim.repository.settlements import (
    Ref,
    direct_settlements_of_day,
    get_settlement,
    get_settlement_unscoped,
    list_settlements,
    message,
    payout_entries_of,
    readable_settlements,
    settlement_by_key,
    settlement_key,
)
from jinyu.claim.repository.settling import lock_for_settlement, message_and_coverage
from jinyu.claim.repository.writes import (
    accumulator_amounts,
    add_accumulator_entries,
    add_journals,
    add_message,
    add_payout_entries,
    add_settlement,
    store_accumulators,
    store_book_balances,
)

__all__ = [
    "Locked",
    "Ref",
    "accumulator_amounts",
    "accumulator_entries_of",
    "accumulator_entry_sums",
    "accumulators",
    "active_product",
    "active_products_on",
    "add_accumulator_entries",
    "add_journals",
    "add_message",
    "add_payout_entries",
    "add_settlement",
    "book_postings",
    "coverage_on",
    "direct_settlements_of_day",
    "find_book",
    "find_enrollment",
    "get_book",
    "get_enrollment",
    "get_product",
    "get_product_unscoped",
    "get_run",
    "get_settlement",
    "get_settlement_unscoped",
    "insurer_in_product_code",
    "is_lock_timeout",
    "journal_by_reference",
    "journals",
    "journals_of_settlement",
    "latest_product",
    "list_alerts",
    "list_books",
    "list_enrollments",
    "list_products",
    "list_runs",
    "list_settlements",
    "lock_book",
    "lock_books",
    "lock_books_of",
    "lock_enrollment",
    "lock_for_settlement",
    "message",
    "message_and_coverage",
    "open_alert",
    "payout_entries_of",
    "payout_report",
    "postings_of",
    "premium_by_insurer",
    "product_insurers",
    "product_version_exists",
    "readable_alerts",
    "readable_books",
    "readable_enrollments",
    "readable_products",
    "readable_runs",
    "readable_settlements",
    "run_for_file",
    "run_items",
    "set_lock_timeout",
    "settlement_by_key",
    "settlement_key",
    "store_accumulators",
    "store_book_balances",
]
