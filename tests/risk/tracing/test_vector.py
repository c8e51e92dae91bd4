"""`service.vector.trace_many` (every loan of a batch at once, as arrays) is `rules.trace_many` over the same
resident hops: the same node and edge rows, in the same order, on random ledgers with random classifiers
(several loans sharing accounts, origins outside the index, hubs, dust, cycles, more hops than the limit),
with and without `Start.marks`; and with `all_edges=False` the refund rule's answer is unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jinyu.analytics import Lake
from jinyu.analytics.flowindex import build
from jinyu.risk.tracing import refunds, rules
from jinyu.risk.tracing.rules import Start, TraceSettings, Transfer
from jinyu.risk.tracing.service import flowfacts, vector
from jinyu.risk.tracing.service.lake import LoanClassifier, Special
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


# -- the loans' own classifiers (`lake.LoanClassifier`), classified over arrays ------------------------------

CATEGORIES = [None, "corporate_general", *rules.STOP_CATEGORIES, *rules.PROHIBITED_CATEGORIES]
BANKS = ["B1", "B2", "H1", None]


def _special(rng: random.Random, accounts: list[str]) -> Special:
    chosen = rng.sample(accounts, len(accounts) // 3)
    return {a: (rng.choice(CATEGORIES), rng.choice(BANKS), rng.choice(BANKS)) for a in chosen}


def _loan_starts(rng: random.Random, accounts: list[str], special: Special) -> list[Start]:
    out = []
    for k in range(rng.randint(1, 12)):
        ranks = {a: rng.choice([1, 1, 2, 5, 12]) for a in rng.sample(accounts, rng.randint(0, 6))}
        shells = {a: (True, rng.random() < 0.5) for a in rng.sample(accounts, rng.randint(0, 4))}
        mode = rng.choice(["return_flow", "misuse"])
        classify = LoanClassifier(mode, rng.choice(["B1", "B2", "H1"]), ranks, shells, special)
        origin = rng.choice([*accounts, "9999-not-in-the-index"])
        t0 = T0 + dt.timedelta(minutes=rng.randint(-120, 60 * 24 * 6))
        out.append(Start(f"L{k}", origin, rng.randint(1, 10**9), t0, classify, (special, ranks, shells)))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_loan_classifiers_over_arrays_trace_as_the_per_loan_tracer(tmp_path: Path, seed: int) -> None:
    """Loans of both analyses, with related accounts (the borrower's own among them), shells and stop,
    prohibited and repayment accounts of several banks: `vector` classifies their flows over arrays,
    `rules.trace_many` calls each loan's classifier (`rules.classify_edge`) flow by flow."""
    rng = random.Random(2000 + seed)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    hops = ResidentHops(build(tmp_path / "lake"), "pro_rata")
    special = _special(rng, accounts)
    kinds_seen: set[str] = set()
    for round_ in range(4):
        settings = TraceSettings(max_hops=rng.choice([2, 3, 6]), dust=rng.choice([1, 10**5]), hub_degree=1000)
        starts = _loan_starts(rng, accounts, special)
        expected = rules.trace_many(hops, starts, settings)
        got = vector.trace_many(hops, starts, settings)
        assert list(got) == list(expected)
        for key in expected:
            assert got[key].nodes == expected[key].nodes, (seed, round_, key)
            assert got[key].edges == expected[key].edges, (seed, round_, key)
            kinds_seen |= {str(n["kind"]) for n in expected[key].nodes}
    assert kinds_seen & {"returned", "stop", "shell", "other_loan", "securities", "real_estate"}


def test_every_case_of_the_classifier_over_arrays(tmp_path: Path) -> None:
    """Every (mode, category, bank of the account, lender, rank of the payee, payer related, shell, payer
    own) against `LoanClassifier.__call__` (which is `rules.classify_edge`), flow by flow."""
    banks = [("B1", None), ("B2", "B1"), (None, None)]
    combos = [(c, b) for c in CATEGORIES for b in banks]
    # an account per (category, banks) and per rank/shell: payees; "P*" payers (related or not)
    payees = {f"6{i:03d}": combo for i, combo in enumerate(combos)}
    names = [*payees, "7000", "7001", "8000", "8001"]
    transfers = [Transfer(f"T{i}", T0, a, names[(i + 1) % len(names)], 1) for i, a in enumerate(names)]
    write(Lake(tmp_path / "lake"), _rows(transfers))
    ix = build(tmp_path / "lake")
    special: Special = {a: (c, b, p) for a, (c, (b, p)) in payees.items() if c is not None or b is not None}
    starts = []
    for mode in ("return_flow", "misuse", "other"):
        for lender in ("B1", "B2"):
            for rank in (None, 1, 3):
                for shell in (False, True):
                    ranks = {"8000": 2, "8001": 1}  # related payers: 8000 (rank 2), 8001 (own)
                    ranks |= {a: rank for a in payees if rank is not None}
                    shells = {a: (True, False) for a in payees} if shell else {}
                    classify = LoanClassifier(mode, lender, ranks, shells, special)
                    starts.append(Start(f"L{len(starts)}", "7000", 1, T0, classify, (special, ranks, shells)))
    n_acc = int(ix.accounts.shape[0])
    kinds = flowfacts.Kinds()
    facts = flowfacts.Facts.of(ix, starts, n_acc, kinds)
    assert facts is not None
    flows = [
        (i, src, dst, src_own)
        for i in range(len(starts))
        for src in ("7000", "7001", "8000", "8001")
        for dst in [*payees, "7001"]
        for src_own in (False, True)
    ]
    loan = np.array([f[0] for f in flows], dtype=np.int64)
    src, dst = ix.lookup([f[1] for f in flows]), ix.lookup([f[2] for f in flows])
    own = np.array([f[3] for f in flows], dtype=bool)
    got_kind, got_own = facts.classify(loan, src, dst, own)
    got = [(kinds.names[k], bool(o)) for k, o in zip(got_kind.tolist(), got_own.tolist(), strict=True)]
    expected = [starts[i].classify(s, d, o) for i, s, d, o in flows]
    assert got == expected
    assert {k for k, _ in expected} >= {"pass", "returned", "servicing", "other_loan", "intermediary_repayment",
                                        "stop", "shell", "securities", "real_estate"}  # fmt: skip


def test_other_classifiers_are_called_flow_by_flow(tmp_path: Path) -> None:
    """A batch mixing a loan's own classifier with any other callable is classified by calling them."""
    rng = random.Random(7)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    ix = build(tmp_path / "lake")
    special = _special(rng, accounts)
    starts = _loan_starts(rng, accounts, special) + _starts(rng, accounts, with_marks=True)
    assert flowfacts.Facts.of(ix, starts, int(ix.accounts.shape[0]), flowfacts.Kinds()) is None
    other = _loan_starts(rng, accounts, dict(special))  # another container of stop accounts
    mixed = [*_loan_starts(rng, accounts, special), *other]
    assert flowfacts.Facts.of(ix, mixed, int(ix.accounts.shape[0]), flowfacts.Kinds()) is None


@pytest.mark.parametrize("seed", range(4))
def test_the_analyses_of_a_batch_share_the_first_hop_and_the_related_keys(tmp_path: Path, seed: int) -> None:
    """Return flow then misuse of the same loans (the same related sets, as a batch traces them) with a
    `Shared`: the second analysis sends the first hop on no more (one expansion fewer than alone), and both
    answers are those of separate calls; loans of another frontier (other amounts) are not answered from it."""
    rng = random.Random(3000 + seed)
    accounts, transfers = _ledger(rng)
    write(Lake(tmp_path / "lake"), _rows(transfers))
    hops = ResidentHops(build(tmp_path / "lake"), "pro_rata")
    expand = hops.expand
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return expand(*args, **kwargs)

    hops.expand = counted  # type: ignore[method-assign]
    special = _special(rng, accounts)
    loans = _loan_starts(rng, accounts, special)
    settings = TraceSettings(max_hops=3, dust=1, hub_degree=1000)
    shared = vector.Shared()
    for mode in ("return_flow", "misuse"):
        starts = [
            dataclasses.replace(s, classify=dataclasses.replace(s.classify, mode=mode))  # type: ignore[type-var]
            for s in loans
        ]
        calls.clear()
        alone = vector.trace_many(hops, starts, settings)
        alone_calls = len(calls)
        assert alone == rules.trace_many(hops, starts, settings)
        calls.clear()
        assert vector.trace_many(hops, starts, settings, shared=shared) == alone
        assert len(calls) == (alone_calls if mode == "return_flow" else max(alone_calls - 1, 0)), mode
    other = [dataclasses.replace(s, amount=s.amount + 1) for s in loans]
    calls.clear()
    assert vector.trace_many(hops, other, settings, shared=shared) == rules.trace_many(hops, other, settings)
