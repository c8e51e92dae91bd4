"""Claim use cases: products, enrollment and eligibility, instant settlement and its lifecycle, post-discharge
claims, the prepaid-fund ledger, daily reconciliation and reports.

Services take the session first, then the principal; they never commit (the boundary does).
"""

from jinyu.claim.service.enrollment import eligibility, enroll, enroll_many, list_enrollments, set_status
from jinyu.claim.service.ledger import (
    create_book,
    get_book,
    list_alerts,
    list_books,
    list_journal,
    post_entry,
    prepaid_by_insurer,
)
from jinyu.claim.service.postdischarge import submit as post_discharge
from jinyu.claim.service.postdischarge import transfer as transfer_to_post_discharge
from jinyu.claim.service.products import (
    activate_product,
    create_product,
    get_product,
    list_products,
    read_definition,
)
from jinyu.claim.service.reading import export_fhir, get_settlement, list_settlements
from jinyu.claim.service.reconciliation import get_run, list_runs, reconcile, reconcile_file
from jinyu.claim.service.reports import REPORT_BY, concentration, liability_names, report
from jinyu.claim.service.settlement import Settled, cancel, confirm, settle

__all__ = [
    "REPORT_BY",
    "Settled",
    "activate_product",
    "cancel",
    "concentration",
    "confirm",
    "create_book",
    "create_product",
    "eligibility",
    "enroll",
    "enroll_many",
    "export_fhir",
    "get_book",
    "get_product",
    "get_run",
    "get_settlement",
    "liability_names",
    "list_alerts",
    "list_books",
    "list_enrollments",
    "list_journal",
    "list_products",
    "list_runs",
    "list_settlements",
    "post_discharge",
    "post_entry",
    "prepaid_by_insurer",
    "read_definition",
    "reconcile",
    "reconcile_file",
    "report",
    "set_status",
    "settle",
    "transfer_to_post_discharge",
]
