"""Pure rules of statement verification: values in, values out (no database, no engine, no web).

    rec = reconcile(statement, ledger_lines, thresholds)
    summary = summarise(statement, ledger_lines, rec, thresholds)

The passes run in order, each on what the ones before left free: 1 exact (reference, then date + amount +
counterparty), 2 tolerant, 3 netting, 4 altered pairs; then leftovers are fabricated (statement side) or
hidden (ledger side, in-period lines only) and the running balance is re-added.
"""

from __future__ import annotations

from collections.abc import Sequence

from jinyu.risk.statements.rules.balance import (
    CLOSING,
    OPENING_OF_RECORD,
    balance_breaks,
    lines_total,
    opening_of_record_break,
)
from jinyu.risk.statements.rules.model import (
    DEFAULT_THRESHOLDS,
    BalanceBreak,
    Change,
    LedgerLine,
    Match,
    MatchKind,
    Reconciliation,
    Statement,
    StatementLine,
    Thresholds,
)
from jinyu.risk.statements.rules.names import norm_account, norm_name, similarity
from jinyu.risk.statements.rules.netting import Budget, netting
from jinyu.risk.statements.rules.passes import altered_pairs, by_exact_key, by_reference, tolerant
from jinyu.risk.statements.rules.verdict import VERDICT_LABELS, Summary, Verdict, summarise
from jinyu.risk.statements.rules.work import Work

NAME_MATCHER = "difflib"  # which fuzzy matcher compares counterparty names (quoted in results)


def reconcile(
    statement: Statement, ledger: Sequence[LedgerLine], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Reconciliation:
    work = Work(statement.lines, ledger, thresholds)
    by_reference(work)
    by_exact_key(work)
    tolerant(work)
    budget = Budget(thresholds.netting_budget)
    netting(work, budget)
    altered_pairs(work)
    return Reconciliation(
        matches=work.matches,
        fabricated=work.free_statement(),
        hidden=work.free_ledger(in_period_only=True),
        balance_breaks=balance_breaks(statement),
        netting_complete=budget.left >= 0,
    )


__all__ = [
    "CLOSING",
    "DEFAULT_THRESHOLDS",
    "NAME_MATCHER",
    "OPENING_OF_RECORD",
    "VERDICT_LABELS",
    "BalanceBreak",
    "Change",
    "LedgerLine",
    "Match",
    "MatchKind",
    "Reconciliation",
    "Statement",
    "StatementLine",
    "Summary",
    "Thresholds",
    "Verdict",
    "lines_total",
    "norm_account",
    "norm_name",
    "opening_of_record_break",
    "reconcile",
    "similarity",
    "summarise",
]
