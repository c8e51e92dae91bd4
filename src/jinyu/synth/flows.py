"""Free-running flows: who pays whom, how often and how much, for the transfer generator to draw from.

Each family gets a share of the transfer budget (`scales.FAMILY_SHARES`) and spreads it over its flows by a
heavy-tailed weight, so a few supplier pairs, shoppers and merchants account for much of the traffic, as in
real ledgers. Payroll is fixed: one transfer per employee per month on the employer's payday.
"""

from __future__ import annotations

import math
import random

from jinyu.synth.calendar import FIRST_MONTH
from jinyu.synth.families import FAMILIES, Family, span
from jinyu.synth.model import BATCH, MONTHLY, Region
from jinyu.synth.scales import FAMILY_SHARES


def build_flows(region: Region) -> None:
    rng = region.rng("flows")
    starts = _account_starts(region)
    payroll = _payroll(region, rng, starts)
    fixed = payroll + len(region.events)
    free = max(0.2 * region.scale.transfers, region.scale.transfers - fixed)
    for name, builder in FAMILIES:
        family = Family(name)
        builder(region, rng, starts, family)
        family.flush(region, free * FAMILY_SHARES[name])


def _account_starts(region: Region) -> list[int]:
    """First window month an account can move money in: the month after it was opened."""
    first = FIRST_MONTH
    return [
        0 if d < first else (d.year - first.year) * 12 + d.month - first.month + 1
        for d in region.accounts.opened
    ]


def _payroll(region: Region, rng: random.Random, starts: list[int]) -> int:
    memo, people, count = region.memos.code("代发工资"), region.persons, 0
    for ent in region.enterprises:
        payday = rng.randint(4, 9)  # the n-th working day of the month
        for p in ent.employees:
            dst = people.accounts[p]
            start, end = span(starts, ent, ent.settlement, dst)
            if start > end or dst == ent.settlement:
                continue
            salary = math.exp(rng.gauss(math.log(6_500), 0.45))
            region.flows.add(
                ent.settlement,
                dst,
                1.0,
                math.log(salary),
                0.08,
                timing=MONTHLY,
                channel=BATCH,
                memo=memo,
                start=start,
                end=end,
                param=payday,
            )
            count += end - start + 1
    return count
