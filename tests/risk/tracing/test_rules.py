"""Pure rules of tracing: policy arithmetic, classification, the tracer's invariants, evidence, verdicts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jinyu.risk.tracing import rules
from jinyu.risk.tracing.rules import AccountFacts, Ledger, TraceSettings, Transfer

T0 = dt.datetime(2024, 3, 1, 2, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("traced", "inflow", "amounts", "parts"),
    [
        (100, 0, [30, 70], [30, 70]),  # pool = max(T, inflow, outflow) = 100
        (100, 200, [30, 70], [15, 35]),  # half the money in the account was traced
        (100, 0, [300, 100], [75, 25]),  # more left than came in: older balance dilutes
        (10, 30, [10, 10, 10], [3, 3, 3]),  # truncated to the fen: 1 fen stays behind
        (5, 0, [], []),
        (0, 10, [4], [0]),
    ],
)
def test_pro_rata(traced: int, inflow: int, amounts: list[int], parts: list[int]) -> None:
    assert rules.allocate_pro_rata(traced, inflow, amounts) == parts


@pytest.mark.parametrize(
    ("traced", "amounts", "parts"),
    [
        (100, [30, 70], [30, 70]),
        (100, [60, 60, 60], [60, 40, 0]),  # first in, first out: the loan leaves with the first payments
        (100, [150], [100]),
        (0, [5], [0]),
    ],
)
def test_fifo(traced: int, amounts: list[int], parts: list[int]) -> None:
    assert rules.allocate_fifo(traced, amounts) == parts


def test_mul_div_floor_is_exact_beyond_double_precision() -> None:
    a, b, d = 9_999_999_999_999, 9_999_999_999_998, 9_999_999_999_999
    assert rules.mul_div_floor(a, b, d) == b
    assert rules.mul_div_floor(10**13, 10**13 - 1, 3 * 10**13) == (10**13 * (10**13 - 1)) // (3 * 10**13)
    with pytest.raises(ValueError):
        rules.mul_div_floor(1, 1, 0)


amounts = st.lists(st.integers(min_value=1, max_value=10**13), max_size=30)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**13), amounts)
def test_pro_rata_never_creates_money(traced: int, inflow: int, xs: list[int]) -> None:
    parts = rules.allocate_pro_rata(traced, inflow, xs)
    assert sum(parts) <= traced
    assert all(0 <= p <= x for p, x in zip(parts, xs, strict=True))


@given(st.integers(min_value=0, max_value=10**12), amounts)
def test_fifo_spends_the_traced_money_first_and_never_creates_it(traced: int, xs: list[int]) -> None:
    parts = rules.allocate_fifo(traced, xs)
    assert sum(parts) == min(traced, sum(xs))
    assert all(0 <= p <= x for p, x in zip(parts, xs, strict=True))
    first_short = next((i for i, (p, x) in enumerate(zip(parts, xs, strict=True)) if p < x), len(xs))
    assert all(p == 0 for p in parts[first_short + 1 :])


OWN, REL, NONE = 1, 2, None
B1 = {"bank_code": "O1", "parent_code": "B1"}  # the lending branch's own repayment account
B2 = {"bank_code": "O2", "parent_code": "B2"}


@pytest.mark.parametrize(
    ("mode", "facts", "src_own", "src_related", "kind"),
    [
        ("return_flow", AccountFacts(rel_rank=OWN), True, True, "pass"),  # moving between own accounts
        ("return_flow", AccountFacts(rel_rank=OWN), False, False, "returned"),  # back from a third party
        ("return_flow", AccountFacts(rel_rank=REL), True, True, "returned"),
        ("misuse", AccountFacts(rel_rank=REL), True, True, "pass"),
        ("misuse", AccountFacts(category="securities_settlement"), False, False, "securities"),
        ("return_flow", AccountFacts(category="real_estate_developer"), True, True, "real_estate"),
        ("misuse", AccountFacts(category="loan_repayment", **B1), True, True, "servicing"),
        ("misuse", AccountFacts(category="loan_repayment", **B2), True, True, "other_loan"),
        ("misuse", AccountFacts(category="loan_repayment", **B1), False, True, "other_loan"),
        ("misuse", AccountFacts(category="loan_repayment", **B2), False, False, "intermediary_repayment"),
        ("misuse", AccountFacts(category="payment_processor"), True, True, "stop"),
        ("return_flow", AccountFacts(category="tax_authority"), True, True, "stop"),
        ("misuse", AccountFacts(shell=True), True, True, "shell"),
        ("return_flow", AccountFacts(shell=True), True, True, "pass"),  # shells pass money on in return flow
        ("misuse", AccountFacts(shell=True, rel_rank=OWN), True, True, "pass"),  # own accounts are never shells
        ("misuse", AccountFacts(), False, False, "pass"),
    ],
)  # fmt: skip
def test_classify_edge(mode: str, facts: AccountFacts, src_own: bool, src_related: bool, kind: str) -> None:
    assert rules.classify_edge(mode, facts, src_own, src_related, "B1")[0] == kind


@pytest.mark.parametrize(
    ("kind", "traced", "seen", "hop", "final"),
    [
        ("pass", 99, False, 1, "dust"),
        ("returned", 99, False, 1, "dust"),
        ("returned", 100, False, 1, "returned"),
        ("pass", 100, True, 1, "cycle"),
        ("pass", 100, False, 3, "open"),
        ("pass", 100, False, 2, "pass"),
    ],
)
def test_final_kind(kind: str, traced: int, seen: bool, hop: int, final: str) -> None:
    assert rules.final_kind(kind, traced, seen, hop, TraceSettings(max_hops=3, dust=100)) == final


def _random_ledger(seed: int) -> tuple[Ledger, list[str]]:
    rng = random.Random(seed)
    accounts = [f"a{i}" for i in range(12)]
    transfers = [
        Transfer(
            f"t{i:03d}",
            T0 + dt.timedelta(hours=rng.randint(-24, 24 * 40)),
            *rng.sample(accounts, 2),
            rng.randint(1, 5_000_000),
        )
        for i in range(rng.randint(5, 120))
    ]
    return Ledger(transfers), accounts


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    policy=st.sampled_from(rules.POLICIES),
    hops=st.integers(min_value=1, max_value=6),
    dust=st.integers(min_value=0, max_value=200_000),
    hub=st.integers(min_value=1, max_value=20),
)
def test_every_fen_of_the_loan_ends_in_exactly_one_place(
    seed: int, policy: str, hops: int, dust: int, hub: int
) -> None:
    ledger, accounts = _random_ledger(seed)
    related = set(accounts[1:3])
    terminal = {accounts[3]: "securities_settlement", accounts[4]: "payment_processor"}

    def classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
        facts = AccountFacts(category=terminal.get(dst), rel_rank=2 if dst in related else None)
        return rules.classify_edge("return_flow", facts, src_own, src in related, "B1")

    loan = 3_000_000
    settings_ = TraceSettings(max_hops=hops, dust=dust, hub_degree=hub, policy=policy)
    result = rules.trace(ledger, accounts[0], loan, T0, settings_, classify)
    assert sum(rules.balance(result.nodes).values()) == loan
    assert all(n["hop"] <= hops for n in result.nodes)
    expanded = [(n["hop"], n["account"]) for n in result.nodes if n["kind"] in ("pass", "origin")]
    assert len({a for _h, a in expanded}) == len(expanded)  # an account is expanded at most once
    for e in result.edges:
        assert e["first_ts"] > T0 and e["last_ts"] <= T0 + settings_.window


def test_top_paths_follow_the_largest_incoming_edges() -> None:
    ts = T0 + dt.timedelta(hours=1)
    nodes = [
        {"hop": 0, "account": "o", "kind": "origin", "traced": 100, "first_ts": T0},
        {"hop": 1, "account": "a", "kind": "pass", "traced": 60, "first_ts": ts},
        {"hop": 1, "account": "b", "kind": "pass", "traced": 40, "first_ts": ts},
        {"hop": 2, "account": "r", "kind": "returned", "traced": 50, "first_ts": ts},
    ]
    edges = [
        {"hop": 1, "src": "o", "account": "a", "kind": "pass", "traced": 60, "first_ts": ts},
        {"hop": 1, "src": "o", "account": "b", "kind": "pass", "traced": 40, "first_ts": ts},
        {"hop": 2, "src": "a", "account": "r", "kind": "returned", "traced": 20, "first_ts": ts},
        {"hop": 2, "src": "b", "account": "r", "kind": "returned", "traced": 30, "first_ts": ts},
    ]
    (path,) = rules.top_paths(nodes, edges, ["returned"], 5)
    assert path.amount == 50
    assert [(s.account, s.traced) for s in path.steps] == [("o", 100), ("b", 40), ("r", 30)]


@pytest.mark.parametrize(
    ("found", "loan", "verdict"),
    [(0, 100, "clean"), (4, 100, "attention"), (5, 100, "risky"), (100, 100, "risky")],
)
def test_verdict(found: int, loan: int, verdict: str) -> None:
    assert rules.verdict(found, loan, Decimal("0.05")) == verdict


def test_money_and_shares() -> None:
    assert rules.yuan(123_456) == Decimal("1234.56")
    assert rules.share(1, 3) == Decimal("0.3333")
    assert rules.share(2, 3) == Decimal("0.6667")
    assert rules.share(5, 0) == Decimal("0")
    assert rules.days_between(T0, T0 + dt.timedelta(hours=36)) == Decimal("1.5")


def test_purpose_consistency() -> None:
    assert rules.purpose_consistent("equipment", "C3511") is True
    assert rules.purpose_consistent("equipment", "F5176") is False
    assert rules.purpose_consistent("construction", None) is False
    assert rules.purpose_consistent("working_capital", "F5176") is None
