"""The lake's small datasets as the resident tracing context reads them: one scan each, indexed by key.

Read once per lake version (`service.context` builds it with the transfer index); every value comes from the
same engine as the per-loan statements, so a row built from these is the row the SQL would return, to the
type. Missing optional datasets (`loan_guarantees`, `related_parties`) read as empty, as the statements do."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinyu.analytics import Engine, Query
from jinyu.risk.tracing.related_sql import OPTIONAL
from jinyu.risk.tracing.service import balances, reversals

Row = dict[str, Any]

_SCANS = {
    "loans": """
SELECT l.loan_id, l.bank_code, l.borrower_uscc, l.disbursement_account, l.amount, l.disbursed_at,
       l.term_months, l.declared_purpose, l.month AS loan_month,
       e.name AS borrower_name, e.legal_rep_name AS borrower_rep_name
FROM loans AS l
LEFT JOIN enterprises AS e ON e.uscc = l.borrower_uscc
ORDER BY l.disbursed_at, l.loan_id""",
    "banks": "SELECT org_code, parent_code FROM banks",
    "enterprises": """
SELECT uscc, legal_rep_id, address, phone, established_on, industry_code FROM enterprises""",
    "shareholders": "SELECT uscc, holder_id, holder_type, share_ratio FROM shareholders",
    "loan_guarantees": "SELECT loan_id, guarantor_id FROM loan_guarantees",
    "related_parties": """
SELECT owner_uscc, related_id, relation, source, valid_from, valid_to, bank_code FROM related_parties""",
    "accounts": "SELECT account_no, owner_id, owner_type, owner_name, category FROM accounts",
    # Months with activity (tax paid or insured staff): what makes a company not a shell.
    "activity": """
SELECT uscc, month, period FROM tax_monthly WHERE tax_paid > 0
UNION ALL
SELECT uscc, month, period FROM headcount_monthly WHERE social_insurance_count > 0""",
}


def scan(engine: Engine, name: str) -> list[Row]:
    query = Query(
        name=f"tracing_resident_{name}",
        sql=_SCANS[name],
        params={},
        description="常驻追踪上下文的全表读取 / a whole-dataset read for the resident tracing context",
        optional={k: v for k, v in OPTIONAL.items() if k in _SCANS[name]},
    )
    return list(engine.run_query(query).to_pylist())


Rows = tuple[Row, ...]


@dataclass
class Tables:
    """Every row the context statements join, keyed the way they join it.

    Held as plain dicts of tuples (`load`), not lists: rows (dicts of plain values) are never tracked by the
    cyclic collector, and a tuple of plain values (a company's accounts by key, its months of activity) stops
    being tracked at the first collection it survives. Tuples of rows stay tracked (a dict may become
    tracked), so a serving process freezes the context once it is ready (`context.settle`)."""

    loans: Rows = ()  # in (disbursed_at, loan_id) order
    loan_by_id: dict[str, Rows] = field(default_factory=dict)
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    banks: frozenset[str] = frozenset()
    enterprise: dict[str, Row] = field(default_factory=dict)
    by_rep: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_address: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_phone: dict[str, tuple[str, ...]] = field(default_factory=dict)
    holders: dict[str, Rows] = field(default_factory=dict)  # by held company
    holdings: dict[str, Rows] = field(default_factory=dict)  # by holder
    guarantors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    declared_by_owner: dict[str, Rows] = field(default_factory=dict)
    declared_by_related: dict[str, Rows] = field(default_factory=dict)
    accounts_of: dict[str, Rows] = field(default_factory=dict)
    account: dict[str, Row] = field(default_factory=dict)
    # by company: the months with activity in order, and each one's period (NULLs left out: the statement's
    # month range never holds a NULL month, MIN and COUNT skip NULL periods)
    activity: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    by_established: tuple[tuple[dt.date, str], ...] = ()  # (established_on, uscc), sorted
    established_days: tuple[dt.date, ...] = ()  # the days of `by_established`
    reversals: reversals.ReversalPairs = field(default_factory=reversals.ReversalPairs)  # the refund rule's
    balances: balances.Balances = field(default_factory=balances.Balances)  # the balance pool's

    def tree(self, root: str) -> set[str]:
        """The node and two levels below it, as `tracing_bank_tree` (a node not in `banks`: nothing)."""
        if root not in self.banks:
            return set()
        child = set(self.children.get(root, ()))
        grand = {g for c in child for g in self.children.get(c, ())}
        return {root} | child | grand

    def established(self, since: dt.date, until: dt.date) -> tuple[tuple[dt.date, str], ...]:
        """(established_on, uscc) of the companies established between the two days (inclusive), in order."""
        days = self.established_days
        return self.by_established[bisect_left(days, since) : bisect_right(days, until)]

    def index_established(self) -> None:
        self.by_established = tuple(
            sorted(
                (e["established_on"], u)
                for u, e in self.enterprise.items()
                if e["established_on"] is not None
            )
        )
        self.established_days = tuple(day for day, _ in self.by_established)


def load(engine: Engine) -> Tables:
    t = Tables()
    loans: list[Row] = []
    loan_by_id: dict[str, list[Row]] = defaultdict(list)
    for r in scan(engine, "loans"):
        loans.append(r)
        loan_by_id[str(r["loan_id"])].append(r)
    t.loans, t.loan_by_id = tuple(loans), _tuples(loan_by_id)
    banks: set[str] = set()
    children: dict[str, list[str]] = defaultdict(list)
    for r in scan(engine, "banks"):
        banks.add(r["org_code"])
        if r["parent_code"] is not None:
            children[r["parent_code"]].append(r["org_code"])
    t.banks, t.children = frozenset(banks), _tuples(children)
    by: dict[str, dict[str, list[str]]] = {k: defaultdict(list) for k in ("legal_rep_id", "address", "phone")}
    for r in scan(engine, "enterprises"):
        t.enterprise.setdefault(r["uscc"], r)
        for key, index in by.items():
            if r[key] is not None:
                index[r[key]].append(r["uscc"])
    t.by_rep, t.by_address, t.by_phone = (_tuples(by[k]) for k in ("legal_rep_id", "address", "phone"))
    holders: dict[str, list[Row]] = defaultdict(list)
    holdings: dict[str, list[Row]] = defaultdict(list)
    for r in scan(engine, "shareholders"):
        holders[r["uscc"]].append(r)
        holdings[r["holder_id"]].append(r)
    t.holders, t.holdings = _tuples(holders), _tuples(holdings)
    guarantors: dict[str, list[str]] = defaultdict(list)
    for r in scan(engine, "loan_guarantees"):
        guarantors[r["loan_id"]].append(r["guarantor_id"])
    t.guarantors = _tuples(guarantors)
    by_owner: dict[str, list[Row]] = defaultdict(list)
    by_related: dict[str, list[Row]] = defaultdict(list)
    for r in scan(engine, "related_parties"):
        by_owner[r["owner_uscc"]].append(r)
        by_related[r["related_id"]].append(r)
    t.declared_by_owner, t.declared_by_related = _tuples(by_owner), _tuples(by_related)
    accounts_of: dict[str, list[Row]] = defaultdict(list)
    for r in scan(engine, "accounts"):
        accounts_of[r["owner_id"]].append(r)
        t.account.setdefault(r["account_no"], r)
    t.accounts_of = _tuples(accounts_of)
    t.index_established()
    activity: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in scan(engine, "activity"):
        if r["month"] is not None and r["period"] is not None:
            activity[r["uscc"]].append((r["month"], r["period"]))
    for uscc, months in activity.items():
        months.sort()
        t.activity[uscc] = (tuple(m for m, _ in months), tuple(p for _, p in months))
    t.reversals = reversals.load(engine)
    t.balances = balances.load(engine)
    return t


def _tuples(index: Mapping[Any, list[Any]]) -> dict[Any, tuple[Any, ...]]:
    """A plain dict of tuples (see `Tables`): in the index's order, its lists made tuples."""
    return {k: tuple(v) for k, v in index.items()}


def account_rows(t: Tables, account_nos: list[str]) -> list[Row]:
    """`tracing_accounts`: category and owner industry of the given accounts, in account order."""
    out = []
    for no in sorted(set(account_nos)):
        a = t.account.get(no)
        if a is None:
            continue
        owner: Mapping[str, Any] = t.enterprise.get(a["owner_id"]) or {}
        out.append(
            {
                "account_no": a["account_no"],
                "category": a["category"],
                "owner_type": a["owner_type"],
                "owner_id": a["owner_id"],
                "owner_name": a["owner_name"],
                "industry_code": owner.get("industry_code"),
            }
        )
    return out
