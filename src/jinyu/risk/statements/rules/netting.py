"""Pass 3, many-to-one netting within a day: several ledger transfers that sum exactly to one statement line
(a bank printing a payroll batch as one line), or several statement lines that sum to one transfer.

Only lines the earlier passes left free take part, on the same booking day and with the same sign. For each
"one" line, in order: (a) a whole group of the "many" side sums to it — the day's lines, or the lines with one
memo, or with its counterparty; (b) a pair; (c) a subset of at most `netting_max_group` lines when the day has
at most `netting_max_candidates` of them. (b) and (c) only combine lines of the one line's counterparty when it
names one, so unrelated leftovers are not netted by coincidence. The search is bounded by `netting_budget`
steps per check; when spent, netting stops and the result says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from jinyu.risk.statements.rules.model import MatchKind
from jinyu.risk.statements.rules.names import norm_name
from jinyu.risk.statements.rules.work import Work, index_by, sign


@dataclass
class Budget:
    left: int

    def spend(self, steps: int = 1) -> bool:
        self.left -= steps
        return self.left >= 0


@dataclass(frozen=True)
class _Side:
    """One direction of netting: which lines are "one", which are "many", and how to compare them."""

    ones: list[int]
    many: list[int]
    one_day: Callable[[int], object]
    many_day: Callable[[int], object]
    one_amount: Callable[[int], Decimal]
    many_amount: Callable[[int], Decimal]
    many_memo: Callable[[int], str]
    one_has_party: Callable[[int], bool]
    same_party: Callable[[int, int], bool]  # (one, many)
    many_free: list[bool]
    one_free: list[bool]
    record: Callable[[int, Sequence[int]], None]


def netting(w: Work, budget: Budget) -> None:
    for side in (_ledger_into_statement(w), _statement_into_ledger(w)):
        _net(side, w.t.netting_max_group, w.t.netting_max_candidates, budget)


def _ledger_into_statement(w: Work) -> _Side:
    return _Side(
        ones=w.free_statement(),
        many=w.free_ledger(in_period_only=True),
        one_day=lambda i: w.s[i].booked_on,
        many_day=lambda j: w.l[j].booked_on,
        one_amount=lambda i: w.s[i].amount,
        many_amount=lambda j: w.l[j].amount,
        many_memo=lambda j: norm_name(w.l[j].memo),
        one_has_party=w.has_counterparty,
        same_party=w.same_counterparty,
        many_free=w.l_free,
        one_free=w.s_free,
        record=lambda i, js: w.take(MatchKind.NETTED, (i,), js),
    )


def _statement_into_ledger(w: Work) -> _Side:
    return _Side(
        ones=w.free_ledger(in_period_only=True),
        many=w.free_statement(),
        one_day=lambda j: w.l[j].booked_on,
        many_day=lambda i: w.s[i].booked_on,
        one_amount=lambda j: w.l[j].amount,
        many_amount=lambda i: w.s[i].amount,
        many_memo=lambda i: norm_name(w.s[i].memo),
        one_has_party=lambda j: True,
        same_party=lambda j, i: w.same_counterparty(i, j),
        many_free=w.s_free,
        one_free=w.l_free,
        record=lambda j, iss: w.take(MatchKind.NETTED, iss, (j,)),
    )


def _net(side: _Side, max_group: int, max_candidates: int, budget: Budget) -> None:
    many_by_bucket = index_by(side.many, lambda m: (side.many_day(m), sign(side.many_amount(m))))
    for one in side.ones:
        bucket = many_by_bucket.get((side.one_day(one), sign(side.one_amount(one))))
        if not bucket or not side.one_free[one]:
            continue
        free = [m for m in bucket if side.many_free[m]]
        if len(free) < 2:
            continue
        if not budget.spend(len(free)):
            return
        group = _whole_group(side, one, free) or _search(side, one, free, max_group, max_candidates, budget)
        if group:
            side.record(one, group)
        if budget.left < 0:
            return


def _whole_group(side: _Side, one: int, free: list[int]) -> list[int] | None:
    target = side.one_amount(one)
    groups: list[list[int]] = [free, [m for m in free if side.same_party(one, m)]]
    by_memo: dict[str, list[int]] = defaultdict(list)
    for m in free:
        by_memo[side.many_memo(m)].append(m)
    groups.extend(g for memo, g in by_memo.items() if memo)
    for group in groups:
        if len(group) >= 2 and sum((side.many_amount(m) for m in group), Decimal(0)) == target:
            return group
    return None


def _search(
    side: _Side, one: int, free: list[int], max_group: int, max_candidates: int, budget: Budget
) -> list[int] | None:
    pool = [m for m in free if side.same_party(one, m)] if side.one_has_party(one) else free
    if len(pool) < 2:
        return None
    target = abs(side.one_amount(one))
    pair = _pair(pool, target, side.many_amount)
    if pair or len(pool) > max_candidates:
        return pair
    return _subset(
        sorted(pool, key=lambda m: abs(side.many_amount(m))), target, side.many_amount, max_group, budget
    )


def _pair(pool: list[int], target: Decimal, amount: Callable[[int], Decimal]) -> list[int] | None:
    seen: dict[Decimal, int] = {}
    for m in pool:
        value = abs(amount(m))
        other = seen.get(target - value)
        if other is not None:
            return [other, m]
        seen.setdefault(value, m)
    return None


def _subset(
    pool: list[int], target: Decimal, amount: Callable[[int], Decimal], max_group: int, budget: Budget
) -> list[int] | None:
    """Depth-first over amounts sorted ascending (all of one sign), pruning sums past the target."""
    values = [abs(amount(m)) for m in pool]
    chosen: list[int] = []

    def walk(start: int, left: Decimal) -> bool:
        if left == 0:
            return len(chosen) >= 2
        if len(chosen) == max_group or not budget.spend():
            return False
        for k in range(start, len(values)):
            if values[k] > left:
                break
            chosen.append(k)
            if walk(k + 1, left - values[k]):
                return True
            chosen.pop()
        return False

    return [pool[k] for k in chosen] if walk(0, target) else None
