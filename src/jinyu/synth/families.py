"""The free-running flow families: who pays whom, how often and how much.

Each builder adds candidate flows with a raw, heavy-tailed weight to its `Family`; `Family.flush` then turns
the weights into monthly rates that spend the family's share of the transfer budget.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from jinyu.synth.calendar import MONTHS
from jinyu.synth.model import (
    BATCH,
    BUSINESS,
    COUNTER,
    MOBILE,
    NO_MEMO,
    ONLINE,
    RETAIL,
    SETTLEMENT,
    Enterprise,
    Region,
)

_MAX_RATE = 400.0  # transfers a month on one flow; caps the heaviest tails


@dataclass
class Family:
    """Flows of one family collected with raw weights, turned into monthly rates that meet the budget."""

    name: str
    rows: list[tuple[int, int, float, float, float, int, int, int, int, int, int]] = field(
        default_factory=list
    )

    def add(
        self,
        src: int,
        dst: int,
        weight: float,
        mu: float,
        sigma: float,
        *,
        timing: int,
        channel: int,
        memo: int,
        start: int,
        end: int,
        round_to: int = 1,
    ) -> None:
        if src != dst and start <= end:
            self.rows.append((src, dst, weight, mu, sigma, timing, channel, memo, start, end, round_to))

    def flush(self, region: Region, budget: float) -> None:
        exposure = sum(r[2] * (r[9] - r[8] + 1) for r in self.rows)
        scale = budget / exposure if exposure else 0.0
        for src, dst, w, mu, sigma, timing, channel, memo, start, end, round_to in self.rows:
            region.flows.add(
                src,
                dst,
                min(_MAX_RATE, w * scale),
                mu,
                sigma,
                timing=timing,
                channel=channel,
                memo=memo,
                start=start,
                end=end,
                round_to=round_to,
            )
        self.rows.clear()


def span(starts: list[int], ent: Enterprise | None, *accounts: int) -> tuple[int, int]:
    """Window months a flow can run in: after its accounts opened, while the enterprise (if any) trades."""
    start = max(starts[a] for a in accounts)
    if ent is None:
        return start, MONTHS - 1
    return max(start, ent.start_month), ent.end_month


def _payer(rng: random.Random, ent: Enterprise) -> int:
    return ent.general if ent.general >= 0 and rng.random() < 0.25 else ent.settlement


def _supply(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    ents, memo = region.enterprises, region.memos.code("货款")
    for ent in ents:
        for s in ent.suppliers:
            sup = ents[s]
            src = _payer(rng, ent)
            start, end = span(starts, ent, src, sup.settlement)
            end = min(end, sup.end_month)
            weight = math.sqrt(ent.size * sup.size) * rng.paretovariate(1.5)
            channel = ONLINE if rng.random() < 0.85 else COUNTER
            fam.add(
                src,
                sup.settlement,
                weight,
                math.log(8_000 * ent.size**0.7),
                1.1,
                timing=BUSINESS,
                channel=channel,
                memo=memo,
                start=max(start, sup.start_month),
                end=end,
            )


def _services(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    providers = [e for e in region.enterprises if e.kind == "services" and e.status == "active"]
    memo = region.memos.code("服务费")
    for ent in region.enterprises:
        if not providers or ent.kind in ("processor", "securities"):
            continue
        prov = rng.choice(providers)
        start, end = span(starts, ent, ent.settlement, prov.settlement)
        fam.add(
            ent.settlement,
            prov.settlement,
            math.sqrt(ent.size),
            math.log(5_000 * ent.size**0.4),
            0.8,
            timing=BUSINESS,
            channel=ONLINE,
            memo=memo,
            start=max(start, prov.start_month),
            end=end,
        )


def _hub_accounts(region: Region, category: str) -> dict[tuple[str, int], int]:
    """(owner USCC, bank) -> account of a processor's reserve or a broker's custody account."""
    book, outlets = region.accounts, region.banks.outlets
    return {
        (book.owner_id[a], outlets[book.outlet[a]].bank_no): a
        for a in range(len(book))
        if book.category[a] == category
    }


def _consumer(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    hubs = _hub_accounts(region, "payment_processor")
    processors = sorted({owner for owner, _ in hubs})
    book, outlets, memo = region.accounts, region.banks.outlets, region.memos.code("消费")
    for src in region.persons.accounts:
        bank = outlets[book.outlet[src]].bank_no
        owner = processors[0] if rng.random() < 0.6 else rng.choice(processors)
        hub = hubs[(owner, bank)]
        start, end = span(starts, None, src, hub)
        fam.add(
            src,
            hub,
            rng.paretovariate(1.3),
            math.log(80),
            1.2,
            timing=RETAIL,
            channel=MOBILE,
            memo=memo,
            start=start,
            end=end,
        )


def _p2p(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    accounts, memo = region.persons.accounts, region.memos.code("转账")
    n = len(accounts)
    for i, src in enumerate(accounts):
        for _ in range(rng.randint(1, 2)):
            # Half of private transfers stay among relatives and friends, here neighbours in the register.
            j = (i + rng.randint(1, 5)) % n if rng.random() < 0.5 else rng.randrange(n)
            start, end = span(starts, None, src, accounts[j])
            fam.add(
                src,
                accounts[j],
                rng.paretovariate(1.5),
                math.log(800),
                1.3,
                timing=RETAIL,
                channel=MOBILE if rng.random() < 0.7 else ONLINE,
                memo=memo if rng.random() < 0.6 else NO_MEMO,
                start=start,
                end=end,
                round_to=10_000 if rng.random() < 0.5 else 1,
            )


def _merchants(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    hubs = _hub_accounts(region, "payment_processor")
    processors = sorted({owner for owner, _ in hubs})
    book, outlets, memo = region.accounts, region.banks.outlets, region.memos.code("商户结算")
    for ent in region.enterprises:
        if ent.kind != "merchant":
            continue
        bank = outlets[book.outlet[ent.settlement]].bank_no
        for owner in rng.sample(processors, min(len(processors), rng.randint(1, 2))):
            hub = hubs[(owner, bank)]
            start, end = span(starts, ent, hub, ent.settlement)
            fam.add(
                hub,
                ent.settlement,
                ent.size,
                math.log(3_000 * ent.size**0.6),
                0.6,
                timing=SETTLEMENT,
                channel=BATCH,
                memo=memo,
                start=start,
                end=end,
            )


def _securities(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    custody = _hub_accounts(region, "securities_settlement")
    brokers = sorted({owner for owner, _ in custody})
    book, outlets, memo = region.accounts, region.banks.outlets, region.memos.code("银证转账")
    for src in region.persons.accounts:
        if rng.random() >= 0.08:
            continue
        hub = custody[(rng.choice(brokers), outlets[book.outlet[src]].bank_no)]
        start, end = span(starts, None, src, hub)
        weight = rng.paretovariate(1.2)
        for a, b, w in ((src, hub, weight), (hub, src, weight * 0.7)):
            fam.add(
                a,
                b,
                w,
                math.log(20_000),
                1.2,
                timing=BUSINESS,
                channel=ONLINE,
                memo=memo,
                start=start,
                end=end,
                round_to=100,
            )


def _hubs(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    hubs = _hub_accounts(region, "payment_processor")
    memo = region.memos.code("备付金调拨")
    banks = len(region.banks.heads)
    for (owner, bank), src in sorted(hubs.items()):
        for other in rng.sample([b for b in range(banks) if b != bank], min(2, banks - 1)):
            dst = hubs[(owner, other)]
            start, end = span(starts, None, src, dst)
            fam.add(
                src,
                dst,
                1.0,
                math.log(5_000_000),
                0.8,
                timing=SETTLEMENT,
                channel=ONLINE,
                memo=memo,
                start=start,
                end=end,
                round_to=100,
            )


def _developers(region: Region, rng: random.Random, starts: list[int], fam: Family) -> None:
    book = region.accounts
    builders = [e for e in region.enterprises if e.kind == "construction" and e.status == "active"]
    escrow = [a for a in range(len(book)) if book.category[a] == "real_estate_developer"]
    works, homes = region.memos.code("工程款"), region.memos.code("购房款")
    for dev in (e for e in region.enterprises if e.kind == "developer"):
        for b in rng.sample(builders, min(len(builders), rng.randint(1, 3))):
            start, end = span(starts, dev, dev.settlement, b.settlement)
            fam.add(
                dev.settlement,
                b.settlement,
                dev.size,
                math.log(2_000_000),
                1.0,
                timing=BUSINESS,
                channel=ONLINE,
                memo=works,
                start=max(start, b.start_month),
                end=min(end, b.end_month),
            )
    for src in region.persons.accounts if escrow else ():
        if rng.random() < 0.03:  # home buyers: down payment and instalments into a project's escrow account
            dst = rng.choice(escrow)
            start, end = span(starts, None, src, dst)
            fam.add(
                src,
                dst,
                0.3,
                math.log(150_000),
                0.7,
                timing=BUSINESS,
                channel=COUNTER if rng.random() < 0.4 else ONLINE,
                memo=homes,
                start=start,
                end=end,
                round_to=100,
            )


Builder = Callable[[Region, random.Random, list[int], Family], None]

# Name (a key of scales.FAMILY_SHARES) and builder, in the order their random draws are made.
FAMILIES: tuple[tuple[str, Builder], ...] = (
    ("supply", _supply),
    ("services", _services),
    ("consumer", _consumer),
    ("p2p", _p2p),
    ("merchant_settlement", _merchants),
    ("securities", _securities),
    ("hub_rebalance", _hubs),
    ("developer", _developers),
)
