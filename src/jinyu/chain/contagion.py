"""DebtRank-style contagion on the supply network (Battiston et al. 2012), pure and exact (Decimal).

If a buyer stops paying, each supplier loses what the buyer would have paid it: its exposure, the buyer's
payments to it over the last `receivable_months`. A supplier's buffer is everything enterprises paid it over
the same months, so the impact W[b→s] = min(1, exposure / buffer) is the share of its takings that buyer
stood for. Distress h ∈ [0, 1]:

    h_s(t) = min(1, h_s(t−1) + Σ_{b distressed at t−1} W[b→s] · h_b(t−1))

A node passes its distress on exactly once (distressed → inactive), so cycles cannot count twice. The money at
risk of a supplier is h_s · buffer_s, rounded to the fen at the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
RATIO = Decimal("0.000001")


@dataclass(frozen=True)
class Exposed:
    uscc: str
    tier: int  # 1 = paid directly by the failing enterprise
    exposure: Decimal  # direct exposure to the enterprises it is exposed to in the cascade (tier 1: to the failing one)
    buffer: Decimal
    distress: Decimal  # h, 0..1 (6 places)
    loss: Decimal  # h · buffer, to the fen


def debtrank(payments: Mapping[tuple[str, str], Decimal], failing: str) -> list[Exposed]:
    """`payments[(buyer, supplier)]`: money paid over the receivable window. Suppliers hit, worst first."""
    buffer: dict[str, Decimal] = defaultdict(Decimal)
    suppliers: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for (buyer, supplier), amount in payments.items():
        if buyer == supplier or amount <= 0:
            continue
        buffer[supplier] += amount
        suppliers[buyer].append((supplier, amount))
    h: dict[str, Decimal] = defaultdict(Decimal)
    h[failing] = Decimal(1)
    tier = {failing: 0}
    exposure: dict[str, Decimal] = defaultdict(Decimal)
    distressed, inactive = {failing}, set()
    while distressed:
        delta: dict[str, Decimal] = defaultdict(Decimal)
        for buyer in sorted(distressed):
            for supplier, amount in suppliers[buyer]:
                if supplier in inactive or supplier == failing:
                    continue
                delta[supplier] += min(Decimal(1), amount / buffer[supplier]) * h[buyer]
                exposure[supplier] += amount
                tier.setdefault(supplier, tier[buyer] + 1)
        inactive |= distressed
        for node, d in delta.items():
            h[node] = min(Decimal(1), h[node] + d)
        distressed = {n for n, d in delta.items() if d > 0 and n not in inactive}
    hit = [n for n in tier if n != failing]
    out = [
        Exposed(
            n,
            tier[n],
            exposure[n].quantize(FEN),
            buffer[n].quantize(FEN),
            h[n].quantize(RATIO, ROUND_HALF_UP),
            (h[n] * buffer[n]).quantize(FEN, ROUND_HALF_UP),
        )
        for n in hit
    ]
    return sorted(out, key=lambda e: (-e.loss, e.uscc))
