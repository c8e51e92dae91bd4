"""Matching passes 1, 2 and 4; each takes only lines the passes before it left free.

1. exact: the statement's reference is the ledger's txn_id (then any difference makes the line *altered*),
   or the same booking date, signed amount and counterparty (account, else exact normalised name);
2. tolerant: same signed amount, booking date within ±`date_tolerance_days`, counterparty account equal or
   name similar (difflib ratio ≥ `name_similarity`); context days around the period are candidates too;
3. netting: see `netting.py`;
4. altered pairs: what is left is paired when it differs in one respect only — amount (same counterparty,
   date within tolerance), counterparty (same amount and date) or date (same amount and counterparty, moved by
   at most `altered_date_window_days`) — so a changed line reads as one altered line, not as one fabricated
   plus one hidden line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from jinyu.risk.statements.rules.model import Change, MatchKind
from jinyu.risk.statements.rules.work import Work, cached_similarity, index_by, sign


def by_reference(w: Work) -> None:
    by_txn = {line.txn_id: j for j, line in enumerate(w.l)}
    for i, line in enumerate(w.s):
        ref = (line.reference or "").strip()
        j = by_txn.get(ref) if ref else None
        if j is None or not w.l_free[j] or not w.s_free[i]:
            continue
        changes = w.changes(i, j)
        w.take(MatchKind.ALTERED if changes else MatchKind.EXACT_REFERENCE, (i,), (j,), changes)


def by_exact_key(w: Work) -> None:
    free = w.free_ledger(in_period_only=False)
    by_account = _queues(index_by(free, lambda j: (w.l[j].booked_on, w.l[j].amount, w.l_acct[j])))
    by_name = _queues(index_by(free, lambda j: (w.l[j].booked_on, w.l[j].amount, w.l_name[j])))
    for i in w.free_statement():
        line = w.s[i]
        if w.s_acct[i]:
            queue = by_account.get((line.booked_on, line.amount, w.s_acct[i]))
        elif w.s_name[i]:
            queue = by_name.get((line.booked_on, line.amount, w.s_name[i]))
        else:
            continue
        j = _pop_free(queue, w.l_free) if queue else None
        if j is not None:
            w.take(MatchKind.EXACT_KEY, (i,), (j,))


def tolerant(w: Work) -> None:
    by_amount = index_by(w.free_ledger(in_period_only=False), lambda j: w.l[j].amount)
    tol = w.t.date_tolerance_days
    for i in w.free_statement():
        candidates = [
            j
            for j in by_amount.get(w.s[i].amount, ())
            if w.l_free[j] and w.day_gap(i, j) <= tol and w.same_counterparty(i, j)
        ]
        if candidates:
            best = min(
                candidates, key=lambda j: (w.day_gap(i, j), -w.name_similarity(i, j), w.time_gap(i, j))
            )
            w.take(MatchKind.TOLERANT, (i,), (best,))


def altered_pairs(w: Work) -> None:
    """Pair leftovers that differ in exactly one respect (see the module docstring)."""
    free = w.free_ledger(in_period_only=True)
    by_amount = index_by(free, lambda j: w.l[j].amount)
    by_party = CounterpartyIndex(w, free)
    for i in w.free_statement():
        if not w.has_counterparty(i):
            continue
        same_amount = [j for j in by_amount.get(w.s[i].amount, ()) if w.l_free[j]]
        found = _altered_partner(w, i, same_amount, by_party)
        if found is not None:
            w.take(MatchKind.ALTERED, (i,), (found[0],), (found[1],))


def _altered_partner(
    w: Work, i: int, same_amount: list[int], by_party: CounterpartyIndex
) -> tuple[int, Change] | None:
    tol, window, amount = w.t.date_tolerance_days, w.t.altered_date_window_days, w.s[i].amount

    def by_time(j: int) -> tuple[int, float]:
        return w.day_gap(i, j), w.time_gap(i, j)

    other_party = _best(
        same_amount, lambda j: w.day_gap(i, j) <= tol and not w.same_counterparty(i, j), by_time
    )
    if other_party is not None:
        return other_party, Change.COUNTERPARTY
    moved = _best(
        same_amount, lambda j: tol < w.day_gap(i, j) <= window and w.same_counterparty(i, j), by_time
    )
    if moved is not None:
        return moved, Change.DATE
    changed = _best(
        by_party.candidates(i),
        lambda j: w.l_free[j] and sign(w.l[j].amount) == sign(amount) and w.day_gap(i, j) <= tol,
        lambda j: (abs(w.l[j].amount - amount), *by_time(j)),
    )
    return (changed, Change.AMOUNT) if changed is not None else None


class CounterpartyIndex:
    """Ledger lines by counterparty: the statement line's account, else every ledger name similar to its name
    (compared once per distinct pair of names)."""

    def __init__(self, w: Work, ledger: Iterable[int]) -> None:
        self.w = w
        items = list(ledger)
        self.by_account = index_by((j for j in items if w.l_acct[j]), lambda j: w.l_acct[j])
        self.by_name = index_by(items, lambda j: w.l_name[j])
        self._similar: dict[str, list[str]] = {}

    def candidates(self, i: int) -> list[int]:
        w = self.w
        if w.s_acct[i]:
            return self.by_account.get(w.s_acct[i], [])
        name = w.s_name[i]
        if name not in self._similar:
            self._similar[name] = [
                n for n in self.by_name if n and cached_similarity(name, n) >= w.t.name_similarity
            ]
        return [j for n in self._similar[name] for j in self.by_name[n]]


def _best(candidates: Iterable[int], accept: Callable[[int], bool], rank: Callable[[int], Any]) -> int | None:
    chosen = [j for j in candidates if accept(j)]
    return min(chosen, key=rank) if chosen else None


def _queues(index: dict[tuple[object, ...], list[int]]) -> dict[tuple[object, ...], deque[int]]:
    return {k: deque(v) for k, v in index.items()}


def _pop_free(queue: deque[int], free: list[bool]) -> int | None:
    while queue:
        j = queue.popleft()
        if free[j]:
            return j
    return None
