"""Whole traces over the resident index's timed edges (`ResidentHops.fetch_timed`: times as µs, made datetimes
only for the rows) are the reference ledger's traces (datetimes throughout), row for row, on random ledgers
with several hops, hubs, dust thresholds and a classifier that returns, stops and passes; and the account
lookups the source answers from its own earlier answers are the index's."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from jinyu.analytics import Lake
from jinyu.analytics.flowindex import build
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.rules import Frontier, Ledger, Start, TraceSettings, Transfer
from jinyu.risk.tracing.service import resident as resident_mod
from jinyu.risk.tracing.service.base import EPOCH
from jinyu.risk.tracing.service.resident import ResidentHops

from .lake import write
from .test_resident import T0, _rows


class _Untimed:
    """The resident source seen through `fetch` only (datetimes): `trace_many`'s path for any other source."""

    def __init__(self, hops: ResidentHops) -> None:
        self.hops = hops

    def fetch(
        self, frontier: list[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], rules.Expansion]:
        return self.hops.fetch(frontier, settings)


def _classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
    bucket = zlib.crc32(dst.encode()) % 7
    if bucket == 0:
        return "returned", False
    if bucket == 1:
        return "securities", False
    return "pass", bucket == 2


def _ledger(rng: random.Random) -> tuple[list[str], list[Transfer]]:
    accounts = [f"6{n:03d}" for n in range(rng.randint(4, 30))]
    transfers = []
    for i in range(rng.randint(20, 600)):
        src, dst = rng.sample(accounts, 2)
        amount = rng.choice([1, 99, 10**12 + 7]) if rng.random() < 0.05 else rng.randint(1, 10**8)
        ts = T0 + dt.timedelta(minutes=rng.randint(-600, 60 * 24 * 20), microseconds=rng.randint(0, 999_999))
        transfers.append(Transfer(f"T{rng.randint(0, 10**6):07d}{i}", ts, src, dst, amount))
    return accounts, transfers


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_traces_over_timed_edges_are_the_ledgers(tmp_path: Path, seed: int, policy: str) -> None:
    rng = random.Random(seed)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    index = build(tmp_path / "lake")
    starts = [
        Start(
            f"L{k}",
            origin,
            rng.randint(10**6, 10**10),
            T0 + dt.timedelta(minutes=rng.randint(-60, 600)),
            _classify,
        )
        for k, origin in enumerate(rng.sample(accounts, min(3, len(accounts))))
    ]
    for dust in (1, 10_000, 10**6):
        settings = TraceSettings(
            max_hops=rng.choice([2, 3, 5]), policy=policy, dust=dust, hub_degree=rng.choice([8, 1000])
        )
        hops = ResidentHops(index, policy)
        assert isinstance(hops, rules.TimedHopSource)
        timed = rules.trace_many(hops, starts, settings)
        reference = rules.trace_many(Ledger(transfers), starts, settings)
        untimed = rules.trace_many(_Untimed(ResidentHops(index, policy)), starts, settings)
        assert timed.keys() == reference.keys()
        for key, found in timed.items():
            assert found.nodes == reference[key].nodes, key
            assert found.edges == reference[key].edges, key
            assert (found.nodes, found.edges) == (untimed[key].nodes, untimed[key].edges)
            assert repr(found.nodes) == repr(untimed[key].nodes)  # the same datetimes (UTC), not only equal
            assert all(r["first_ts"].utcoffset() == dt.timedelta(0) for r in found.nodes + found.edges)
        assert sum(len(t.nodes) + len(t.edges) for t in timed.values()) > len(starts)  # something moved


def test_the_lookups_of_earlier_answers_are_the_index(tmp_path: Path) -> None:
    rng = random.Random(3)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    index = build(tmp_path / "lake")
    hops = ResidentHops(index, "pro_rata")
    assert hops._lookup(accounts).tolist() == index.lookup(accounts).tolist()  # nothing answered yet
    frontier = [Frontier("L", a, 10**9, T0, False, T0 + dt.timedelta(days=20)) for a in accounts]
    hops.fetch_timed(frontier, TraceSettings())
    answered = sorted(hops._dense)
    assert answered  # the frontier sent money on
    assert hops._lookup(answered).tolist() == index.lookup(answered).tolist()
    wanted = [*answered, "nowhere"]  # one not answered: the index's lookup for all of them
    assert np.array_equal(hops._lookup(wanted), index.lookup(wanted))


def test_instants_are_the_epoch_plus_microseconds() -> None:
    """`ResidentHops.instant`'s float path is exactly `EPOCH + timedelta(µs)` (repr too: UTC), wherever it is
    taken (below 2^32 s, where a double's spacing is widest just under the bound) and on both sides of it."""
    hops = ResidentHops.__new__(ResidentHops)  # `instant` needs no index
    rng = random.Random(5)
    bound = resident_mod._EXACT_FLOAT_US
    values = [
        0,
        1,
        499_999,
        500_000,
        999_999,
        10**6,
        bound - 1,
        bound,
        bound + 1,
        -1,
        -(10**6) - 1,
        2 * 10**17,
    ]
    values += [rng.randrange(bound) for _ in range(100_000)]
    values += [bound - rng.randrange(1, 10**12) for _ in range(100_000)]
    values += [rng.randrange(1_500_000_000, 1_900_000_000) * 10**6 + rng.choice([0, 1, 499_999, 500_000, 999_999])
               for _ in range(10_000)]  # fmt: skip
    for value in values:
        made, want = hops.instant(value), EPOCH + dt.timedelta(microseconds=value)
        assert made == want and repr(made) == repr(want), value


def test_frontier_times_in_any_zone_are_the_indexs_microseconds() -> None:
    """`resident._micros` (what a frontier's datetimes are in the index): naive values are UTC, aware ones in any
    zone are the same instant."""
    rng = random.Random(6)
    zones = [dt.UTC, ZoneInfo("Asia/Shanghai"), dt.timezone(dt.timedelta(hours=-5, minutes=-30)), None]
    for _ in range(2_000):
        value = T0 + dt.timedelta(microseconds=rng.randrange(-(10**14), 10**14))
        zone = rng.choice(zones)
        shown = value.replace(tzinfo=None) if zone is None else value.astimezone(zone)
        assert resident_mod._micros(shown) == (value - EPOCH) // dt.timedelta(microseconds=1)
