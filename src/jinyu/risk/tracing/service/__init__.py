"""Use cases: trace one loan's return flow or misappropriation, or every loan of a bank in a period.

Access: only bank organisations with `risk.query`; a loan is found only inside the caller's bank tree
(loans.bank_code at the caller's node or below it), so another bank's loan answers 404 exactly like a
missing one. Every inquiry is counted (`record_inquiry`) and audited in the caller's transaction; evidence
shows accounts outside the borrower's related set only as tokens with their category (`related.view`).

A single loan and a batch take the same path: one statement per hop for the whole frontier of every loan
being traced (`queries.hop`), with classification and bookkeeping in `rules.trace_many`.

    base    stores, access, data version, labels, money and time
    lake    the hop source over the lake, the frontier parameter, related sets, classifiers
    single  return_flow, misuse, trace_loan and the evidence of one loan
    batch   run_batch, trace_batch
"""

from jinyu.risk.tracing.service.base import Stores, data_version
from jinyu.risk.tracing.service.batch import Found, Progress, run_batch, trace_batch
from jinyu.risk.tracing.service.lake import LakeHops, frontier_text, special_accounts
from jinyu.risk.tracing.service.single import Traced, misuse, return_flow, trace_loan

__all__ = [
    "Found",
    "LakeHops",
    "Progress",
    "Stores",
    "Traced",
    "data_version",
    "frontier_text",
    "misuse",
    "return_flow",
    "run_batch",
    "special_accounts",
    "trace_batch",
    "trace_loan",
]
