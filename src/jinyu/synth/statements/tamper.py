"""What forgers do to a statement: insert, delete, alter lines, break or fabricate the balance."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from jinyu.synth.statements.model import Line, Presented, running

_FAKE_NAMES = ("重庆瑞丰贸易有限公司", "重庆鼎盛建材有限公司", "四川恒达物流有限公司", "重庆金源实业有限公司")


def _some(rng: random.Random, s: Presented, pool: list[int]) -> list[int]:
    return sorted(rng.sample(pool, min(len(pool), max(1, len(s.lines) // 20))))


def _typical(s: Presented) -> Decimal:
    amounts = sorted(abs(x.amount) for x in s.lines)
    return amounts[len(amounts) // 2] if amounts else Decimal(1000)


def _fake(rng: random.Random, day: dt.date, amount: Decimal) -> Line:
    account = "39" + "".join(rng.choice("0123456789") for _ in range(16))
    at = dt.time(rng.randrange(9, 18), rng.randrange(60), rng.randrange(60))
    return Line(day, at, account, rng.choice(_FAKE_NAMES), amount, "", "货款")


def _by_day(lines: list[Line]) -> list[Line]:
    return sorted(lines, key=lambda x: x.booked_on)  # stable: the real lines keep their order


def _inserted(rng: random.Random, s: Presented) -> Presented:
    typical, days = _typical(s), sorted({x.booked_on for x in s.lines})
    fakes = [
        _fake(rng, rng.choice(days), typical.quantize(Decimal(1)) * rng.choice((-1, 1)))
        for _ in range(max(1, len(s.lines) // 20))
    ]
    return replace(s, lines=_by_day(s.lines + fakes), tampering="inserted", inserted=len(fakes))


def _deleted(rng: random.Random, s: Presented, *, unbalanced: bool = False) -> Presented:
    pool = [i for i, x in enumerate(s.lines) if x.amount < 0 and x.counterparty_account]
    gone = set(_some(rng, s, pool))
    kept = [x for i, x in enumerate(s.lines) if i not in gone]
    out = replace(
        s, lines=kept, tampering="deleted_unbalanced" if unbalanced else "deleted", deleted=len(gone)
    )
    if not unbalanced:
        return out
    # The careless forger deletes rows but leaves every printed balance, the closing one too, as it was.
    genuine = running(s.opening, s.lines)
    printed = [genuine[i] for i in range(len(s.lines)) if i not in gone]
    recomputed = running(s.opening, kept)
    out.lines = [replace(x, balance_offset=p - r) for x, p, r in zip(kept, printed, recomputed, strict=True)]
    out.closing_offset = (genuine[-1] if genuine else s.opening) - (
        recomputed[-1] if recomputed else s.opening
    )
    out.breaks = _breaks(out)
    return out


def _altered(rng: random.Random, s: Presented) -> Presented:
    typical = _typical(s)
    pool = [i for i, x in enumerate(s.lines) if x.counterparty_account and abs(x.amount) <= typical]
    changed = set(_some(rng, s, pool))
    lines = [replace(x, amount=x.amount * 2) if i in changed else x for i, x in enumerate(s.lines)]
    return replace(s, lines=lines, tampering="altered", altered=len(changed))


def _balance_break(rng: random.Random, s: Presented) -> Presented:
    at = rng.randrange(len(s.lines) // 4, 3 * len(s.lines) // 4)
    bump = Decimal("1000.00")
    lines = [replace(x, balance_offset=bump) if i >= at else x for i, x in enumerate(s.lines)]
    out = replace(s, lines=lines, tampering="balance_break", closing_offset=bump)
    out.breaks = _breaks(out)
    return out


def _fabricated(rng: random.Random, s: Presented) -> Presented:
    kept = s.lines[::4]
    typical, days = _typical(s), sorted({x.booked_on for x in s.lines})
    fakes = [
        _fake(rng, rng.choice(days), (typical * rng.randrange(2, 8)).quantize(Decimal(1)))
        for _ in range(3 * len(kept))
    ]
    deleted = len(s.lines) - len(kept)
    return replace(
        s, lines=_by_day(kept + fakes), tampering="fabricated", inserted=len(fakes), deleted=deleted
    )


# The planted opening-balance break: every printed figure moved by the same amount, so the statement's own
# arithmetic is flawless and only the balance of record (opening_balances) shows it.
OPENING_BREAK = Decimal("50000.00")


def _opening_break(_rng: random.Random, s: Presented) -> Presented:
    out = replace(s, opening=s.opening + OPENING_BREAK, tampering="opening_break")
    out.breaks = 1  # the stated opening against the balance of record
    return out


TAMPER: dict[str, Callable[[random.Random, Presented], Presented]] = {
    "none": lambda _rng, s: s,
    "inserted": _inserted,
    "deleted": _deleted,
    "deleted_unbalanced": lambda rng, s: _deleted(rng, s, unbalanced=True),
    "altered": _altered,
    "balance_break": _balance_break,
    "fabricated": _fabricated,
    "opening_break": _opening_break,
}


def _breaks(s: Presented) -> int:
    offsets = [Decimal(0), *(x.balance_offset for x in s.lines), s.closing_offset]
    return sum(1 for a, b in itertools.pairwise(offsets) if a != b)
