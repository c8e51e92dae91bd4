"""`service.vector.trace_many` (every loan of a batch at once, as arrays) is `rules.trace_many` over the same
resident hops: the same node and edge rows, in the same order, on random ledgers with random classifiers
(several loans sharing accounts, origins outside the index, hubs, dust, cycles, more hops than the limit),
with and without `Start.marks`; and with `all_edges=False` the refund rule's answer is unchanged."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from jinyu.analytics import Lake
from jinyu.analytics.flowindex import build
from jinyu.risk.tracing import refunds, rules
from jinyu.risk.tracing.rules import Start, TraceSettings, Transfer
from jinyu.risk.tracing.service import vector
from jinyu.risk.tracing.service.resident import ResidentHops

from .lake import write
from .test_resident import T0, _rows

KINDS = ["returned", "stop", "shell", "securities", "real_estate", "servicing", "zz_last", "a_first"]


def _ledger(rng: random.Random) -> tuple[list[str], list[Transfer]]:
    accounts = [f"6{n:03d}" for n in range(rng.randint(4, 30))]
    transfers = []
    for i in range(rng.randint(1, 600)):
        src, dst = rng.sample(accounts, 2)
        amount = rng.choice([1, 10**12 + 7, 9 * 10**12]) if rng.random() < 0.05 else rng.randint(1, 10**8)
        ts = T0 + dt.timedelta(minutes=rng.randint(-600, 60 * 24 * 25))
        if rng.random() < 0.1:
            ts = T0 + dt.timedelta(hours=3)  # ties at one instant
        transfers.append(Transfer(f"T{rng.randint(0, 10**6):07d}{i}", ts, src, dst, amount))
    return accounts, transfers


def _starts(rng: random.Random, accounts: list[str], with_marks: bool) -> list[Start]:
    shared = {a: rng.choice(KINDS) for a in rng.sample(accounts, len(accounts) // 5)}  # every loan's
    out = []
    for k in range(rng.randint(1, 12)):
        own = set(rng.sample(accounts, rng.randint(0, 3)))
        mine = {a: rng.choice(KINDS) for a in rng.sample(accounts, rng.randint(0, 4))}

        def classify(
            src: str, dst: str, src_own: bool, own: set[str] = own, mine: dict[str, str] = mine
        ) -> tuple[str, bool]:
            if dst in own:
                return ("pass" if src_own else "returned"), True
            if dst in mine:  # one account, two kinds by the payer: nodes ordered by the kinds' names
                return (mine[dst] if not src_own else "pass"), False
            if dst in shared:
                return (shared[dst] if src_own or shared[dst] != "shell" else "pass"), False
            return "pass", False

        origin = rng.choice([*accounts, "9999-not-in-the-index"])
        marks = (shared, own, mine) if with_marks else None
        amount = rng.choice([rng.randint(1, 10**9), 10**12 + 3])
        t0 = T0 + dt.timedelta(minutes=rng.randint(-120, 60 * 24 * 6))
        out.append(Start(f"L{k}", origin, amount, t0, classify, marks))
    return out


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_random_ledgers_trace_as_the_per_loan_tracer(tmp_path: Path, seed: int, policy: str) -> None:
    rng = random.Random(1000 + seed)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    hops = ResidentHops(build(tmp_path / "lake"), policy)
    for round_ in range(4):
        settings = TraceSettings(
            max_hops=rng.choice([1, 2, 3, 6, 7]),
            window=dt.timedelta(days=rng.randint(1, 30)),
            dust=rng.choice([1, 10**5, 10**7]),
            hub_degree=rng.choice([3, 8, 1000]),
            policy=policy,
        )
        starts = _starts(rng, accounts, with_marks=round_ % 2 == 0)
        expected = rules.trace_many(hops, starts, settings)
        got = vector.trace_many(hops, starts, settings)
        assert list(got) == list(expected)
        for key in expected:
            assert got[key].nodes == expected[key].nodes, (seed, round_, key)
            assert got[key].edges == expected[key].edges, (seed, round_, key)
        # a batch keeps only the edges the refund rule reads: its candidates are the same
        lean = vector.trace_many(hops, starts, settings, all_edges=False)
        for key in expected:
            assert lean[key].nodes == expected[key].nodes
            assert refunds.candidate_pairs(lean[key]) == refunds.candidate_pairs(expected[key])
            assert all(e in expected[key].edges for e in lean[key].edges)


def test_a_planted_return_is_found_the_same_both_ways(tmp_path: Path) -> None:
    """Hand-computed: 1,000,000 fen leave the borrower's account A for a supplier S, which sends 600,000 to
    the borrower's related account R and 400,000 to an outsider O (pro rata, nothing else moves)."""
    t = [
        Transfer("T1", T0 + dt.timedelta(hours=1), "A", "S", 1_000_000),
        Transfer("T2", T0 + dt.timedelta(hours=2), "S", "R", 600_000),
        Transfer("T3", T0 + dt.timedelta(hours=3), "S", "O", 400_000),
    ]
    write(Lake(tmp_path / "lake"), _rows(t))
    hops = ResidentHops(build(tmp_path / "lake"), "pro_rata")

    def classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
        return ("returned", False) if dst == "R" else ("pass", False)

    start = Start("L", "A", 1_000_000, T0, classify, ({"R"},))
    settings = TraceSettings(max_hops=2, dust=1)
    got = vector.trace_many(hops, [start], settings)["L"]
    assert got == rules.trace_many(hops, [start], settings)["L"]
    kinds = {(n["hop"], n["account"]): (n["kind"], n["traced"]) for n in got.nodes}
    assert kinds == {
        (0, "A"): ("origin", 1_000_000),
        (1, "S"): ("pass", 1_000_000),
        (2, "R"): ("returned", 600_000),
        (2, "O"): ("open", 400_000),
    }
