"""Shell companies around each loan of a request, from the resident tables: `queries._SHELLS` evaluated in memory.

A company is a shell for a loan when it shows no activity (tax paid or insured staff) around the loan and it is
either newly registered (established within `shell_age_days` before the disbursement up to the window's end,
first activity after the window) or linked to the borrower (same legal representative, address or phone, no
activity from a year before the disbursement to the window's end); never the borrower itself.

The same flags as the statement, in the order the earlier per-loan loop made them (`flags`): the candidates
are read by bisection (companies sorted by their day of establishment, each company's activity by month), and
of the new companies only those inactive up to the latest window of the batch are visited per loan, not every
company established around it.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

import numpy as np

from jinyu.risk.tracing.service.base import utc
from jinyu.risk.tracing.service.tables import Row, Tables

_EAST8 = dt.timedelta(hours=8)
# (loan id, company) -> [is new, is linked], in the order found: loan by loan the new companies by day, then the
# linked ones (what orders two companies' rows of one account, which sort equal)
Flags = dict[tuple[str, str], list[int]]


def flags(
    t: Tables, loans: Sequence[Row], linked: Sequence[tuple[str, str]], p: Mapping[str, object]
) -> Flags:
    """The shells of `loans` (`linked`: (loan id, company) of the borrowers' linked companies, in order)."""
    cand = dict((u, day) for day, u in t.established(p["new_since"], p["until"]))  # type: ignore[arg-type]
    cand |= {u: t.enterprise[u]["established_on"] for _, u in linked if u in t.enterprise}
    act_from, to_month = str(p["act_from"]), str(p["to_month"])
    periods = {u: _active(t, u, act_from, to_month) for u in cand}
    by_day = sorted((day, u) for u, day in cand.items() if day is not None)
    days = [day for day, _ in by_day]
    window = dt.timedelta(days=int(p["window_days"]))  # type: ignore[call-overload]
    age = dt.timedelta(days=int(p["shell_age_days"]))  # type: ignore[call-overload]
    borrower = {str(loan["loan_id"]): loan["borrower_uscc"] for loan in loans}
    each: list[tuple[str, dt.datetime, str, str]] = []  # loan id, disbursed (UTC), activity from and to
    for loan in loans:
        at = utc(loan["disbursed_at"])
        east8 = at + _EAST8
        low = f"{east8.year - 1:04d}-{east8.month:02d}"
        each.append((str(loan["loan_id"]), at, low, _month(east8 + window)))
    spans = {loan_id: (low, high) for loan_id, _at, low, high in each}
    # New: first activity (a period, compared as text like the statement) after the loan's window. The texts
    # are ranked once so each loan compares its companies in one numpy step; a company never active ranks last.
    first = [min(periods[u], default=None) for _, u in by_day]
    texts = sorted({f for f in first if f is not None} | {high for *_, high in each})
    rank = {text: i for i, text in enumerate(texts)}
    first_rank = np.array([len(texts) if f is None else rank[f] for f in first], dtype=np.int64)
    out: Flags = {}
    for loan_id, at, _low, act_to in each:
        lo = bisect_left(days, at.date() - age)
        hi = bisect_right(days, (at + window).date())
        for i in (lo + np.flatnonzero(first_rank[lo:hi] > rank[act_to])).tolist():
            u = by_day[i][1]
            if u != borrower[loan_id]:
                out.setdefault((loan_id, u), [0, 0])[0] = 1
    for loan_id, u in linked:
        if u == borrower[loan_id]:
            continue
        low, high = spans[loan_id]
        if not any(low <= period <= high for period in periods.get(u, ())):
            out.setdefault((loan_id, u), [0, 0])[1] = 1
    return out


def _month(at: dt.datetime) -> str:
    return at.strftime("%Y-%m")


def _active(t: Tables, uscc: str, act_from: str, to_month: str) -> list[str]:
    """The company's periods of activity in the months act_from..to_month."""
    months, periods = t.activity.get(uscc, ((), ()))
    return list(periods[bisect_left(months, act_from) : bisect_right(months, to_month)])


def rows(t: Tables, found: Flags) -> list[tuple[str, Row, int, int]]:
    """(loan id, account, is new, is linked) of every account of every shell, in the order of `found`."""
    return [
        (loan_id, a, is_new, is_linked)
        for (loan_id, u), (is_new, is_linked) in found.items()
        for a in t.accounts_of.get(u, ())
    ]


def by_loan(t: Tables, found: Flags) -> dict[str, dict[str, tuple[bool, bool]]]:
    """Per loan, account -> (newly registered, linked): what `lake.context_sets` makes of the shell rows."""
    out: dict[str, dict[str, tuple[bool, bool]]] = {}
    for loan_id, a, is_new, is_linked in rows(t, found):
        out.setdefault(loan_id, {})[str(a["account_no"])] = (bool(is_new), bool(is_linked))
    return out
