"""Daily reconciliation with a hospital: every record compared in detail; what to correct and what to flag.

The totals are reported, never used as a gate: a missing settlement, a ghost of nearly the same amount and a
one-fen difference elsewhere can add up to equal totals. Keys are (mdtrt_id, setl_id). The hospital
reports, per settlement of the day, whether it applied the supplementary payout (`settled`) or took it
back (`cancelled`), and the amount it deducted from the bill.
Deterministic corrections:
- ours pending, theirs settled with the same amount → confirm (the confirmation was lost);
- ours pending, theirs absent or cancelled → void (the hospital settled basic insurance alone);
- ours settled, theirs cancelled → reverse (the cancellation was lost).
Everything else that disagrees is flagged for people: ours only, theirs only, amount or status mismatch.

Stdlib only: values in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from jinyu.claim.rules.product import ZERO

Key = tuple[str, str]  # (mdtrt_id, setl_id)


class Finding(StrEnum):
    CONFIRMED_PENDING = "confirmed_pending"
    VOIDED_PENDING = "voided_pending"
    REVERSED = "reversed"
    OURS_ONLY = "ours_only"
    THEIRS_ONLY = "theirs_only"
    AMOUNT_MISMATCH = "amount_mismatch"
    STATUS_MISMATCH = "status_mismatch"


CORRECTIONS = frozenset({Finding.CONFIRMED_PENDING, Finding.VOIDED_PENDING, Finding.REVERSED})


@dataclass(frozen=True)
class Ours:
    key: Key
    settlement_id: str
    status: str  # pending | settled | cancelled | voided | deferred | transferred
    payout: Decimal


@dataclass(frozen=True)
class Theirs:
    key: Key
    status: str  # settled | cancelled
    payout: Decimal


@dataclass(frozen=True)
class Item:
    key: Key
    finding: Finding
    settlement_id: str | None
    our_status: str | None
    our_amount: Decimal | None
    their_status: str | None
    their_amount: Decimal | None

    @property
    def is_correction(self) -> bool:
        return self.finding in CORRECTIONS


@dataclass(frozen=True)
class Totals:
    count: int
    total: Decimal


def our_totals(ours: Iterable[Ours]) -> Totals:
    """What we hold as effective for the day: confirmed settlements (pending ones are not yet)."""
    settled = [o for o in ours if o.status == "settled"]
    return Totals(len(settled), sum((o.payout for o in settled), ZERO))


def their_totals(theirs: Iterable[Theirs]) -> Totals:
    settled = [t for t in theirs if t.status == "settled"]
    return Totals(len(settled), sum((t.payout for t in settled), ZERO))


def compare(ours: Iterable[Ours], theirs: Iterable[Theirs]) -> list[Item]:
    """Detail comparison: one item per key that needs a correction or a person's attention."""
    mine = {o.key: o for o in ours}
    their = {t.key: t for t in theirs}
    items: list[Item] = []
    for key in sorted(mine.keys() | their.keys()):
        o, t = mine.get(key), their.get(key)
        finding = _finding(o, t)
        if finding is None:
            continue
        items.append(
            Item(
                key,
                finding,
                o.settlement_id if o else None,
                o.status if o else None,
                o.payout if o else None,
                t.status if t else None,
                t.payout if t else None,
            )
        )
    return items


def _finding(o: Ours | None, t: Theirs | None) -> Finding | None:
    their_settled = t is not None and t.status == "settled"
    if o is None:
        return Finding.THEIRS_ONLY if their_settled and t is not None and t.payout > 0 else None
    if o.status == "pending":
        if not their_settled:
            return Finding.VOIDED_PENDING
        assert t is not None
        return Finding.CONFIRMED_PENDING if t.payout == o.payout else Finding.AMOUNT_MISMATCH
    if o.status == "settled":
        if t is None:
            return Finding.OURS_ONLY if o.payout > 0 else None
        if t.status == "cancelled":
            return Finding.REVERSED
        return None if t.payout == o.payout else Finding.AMOUNT_MISMATCH
    # cancelled, voided, deferred, transferred: nothing of ours is in force
    if their_settled and t is not None and t.payout > 0:
        return Finding.STATUS_MISMATCH
    return None
