"""The working state the matching passes share: normalised keys, what is still free, the matches so far."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

from jinyu.risk.statements.rules.model import Change, LedgerLine, Match, MatchKind, StatementLine, Thresholds
from jinyu.risk.statements.rules.names import norm_account, norm_name, similarity

K = TypeVar("K", bound=Hashable)


@lru_cache(maxsize=65_536)
def cached_similarity(a: str, b: str) -> float:
    return similarity(a, b)


class Work:
    """Both sides normalised once; `take` records a match and marks its lines as used."""

    def __init__(
        self, lines: Sequence[StatementLine], ledger: Sequence[LedgerLine], thresholds: Thresholds
    ) -> None:
        self.s, self.l, self.t = lines, ledger, thresholds
        self.s_acct = [norm_account(x.counterparty_account) for x in lines]
        self.s_name = [norm_name(x.counterparty_name) for x in lines]
        self.l_acct = [norm_account(x.counterparty_account) for x in ledger]
        self.l_name = [norm_name(x.counterparty_name) for x in ledger]
        self.s_free = [True] * len(lines)
        self.l_free = [True] * len(ledger)
        self.matches: list[Match] = []

    def take(
        self, kind: MatchKind, s_idx: Sequence[int], l_idx: Sequence[int], changes: Sequence[Change] = ()
    ) -> None:
        for i in s_idx:
            self.s_free[i] = False
        for j in l_idx:
            self.l_free[j] = False
        self.matches.append(Match(kind, tuple(s_idx), tuple(l_idx), tuple(changes)))

    # -- comparisons --------------------------------------------------------------------------------

    def has_counterparty(self, i: int) -> bool:
        return bool(self.s_acct[i] or self.s_name[i])

    def name_similarity(self, i: int, j: int) -> float:
        return cached_similarity(self.s_name[i], self.l_name[j])

    def same_counterparty(self, i: int, j: int) -> bool:
        """Same account when both sides name one, else similar names (a statement without any counterparty
        agrees with anything: only amount and date can be checked)."""
        if not self.has_counterparty(i):
            return True
        if self.s_acct[i] and self.l_acct[j]:
            return self.s_acct[i] == self.l_acct[j]
        return self.name_similarity(i, j) >= self.t.name_similarity

    def day_gap(self, i: int, j: int) -> int:
        return abs((self.s[i].booked_on - self.l[j].booked_on).days)

    def time_gap(self, i: int, j: int) -> float:
        """Seconds between the statement line's time (when it has one) and the ledger time, same day basis."""
        stated_time, actual_time = self.s[i].time, self.l[j].local_time
        if stated_time is None or actual_time is None:
            return 0.0
        stated = dt.datetime.combine(self.s[i].booked_on, stated_time)
        actual = dt.datetime.combine(self.l[j].booked_on, actual_time)
        return abs((stated - actual).total_seconds())

    def changes(self, i: int, j: int) -> tuple[Change, ...]:
        """What differs between a statement line and the ledger line it is paired with."""
        out = []
        if self.s[i].amount != self.l[j].amount:
            out.append(Change.AMOUNT)
        if not self.same_counterparty(i, j):
            out.append(Change.COUNTERPARTY)
        if self.day_gap(i, j) > self.t.date_tolerance_days:
            out.append(Change.DATE)
        return tuple(out)

    # -- indexes of what is still free ---------------------------------------------------------------

    def free_statement(self) -> list[int]:
        return [i for i, free in enumerate(self.s_free) if free]

    def free_ledger(self, *, in_period_only: bool) -> list[int]:
        return [
            j for j, free in enumerate(self.l_free) if free and (self.l[j].in_period or not in_period_only)
        ]


def index_by(items: Iterable[int], key: Callable[[int], K]) -> dict[K, list[int]]:
    out: dict[K, list[int]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


def sign(amount: Decimal) -> int:
    return 1 if amount > 0 else -1
