"""The golden suite: a hand-built lake (tests/risk/tracing/lake.py) whose traces are pinned to the fen.

L1 lends 1,000,000.00 into A0 at t0. In the 30-day window A0 also receives 1,000,000.00 from a customer
and pays R1 (legal rep) 400,000, X 200,000, SEC (securities) 100,000, AG (own account) 300,000 and REP1
(the lending branch's repayment account) 10,000; 500,000 to S3 on day 40 is outside the window.

pro rata, A0: pool = max(T 1,000,000, inflow 2,000,000, outflow 1,010,000) = 2,000,000, share 1/2:
    R1 200,000  X 100,000  SEC 50,000  AG 150,000  REP1 5,000  residual 495,000
  X (T 100,000, inflow 200,000, outflow 200,000: share 1/2): R1 75,000, PAY 25,000
  AG (T 150,000, inflow 300,000, outflow 290,000: share 1/2): DEV 125,000, RC 20,000, residual 5,000
  R1 in misuse mode (T 200,000, inflow 400,000 + 150,000): SEC 50,000 x 200,000 / 550,000 = 18,181.81
  (truncated to the fen), residual 181,818.19
fifo, A0: R1 400,000, X 200,000, SEC 100,000, AG 300,000 (the loan is used up), REP1 0
  X: R1 150,000, PAY 50,000; AG: DEV 250,000, RC 40,000, residual 10,000; R1 (misuse): SEC 50,000

L4 (April, after every other window) lends 600,000.00 into A4, which pays the guarantee company GA 300,000,
the person guarantor GP 100,000 (both related to the borrower only as guarantors of L4) and S3 100,000;
a customer pays A4 200,000. pro rata, A4: pool = max(600,000, inflow 800,000, outflow 500,000), share 3/4:
GA 225,000, GP 75,000 (returned 300,000), S3 75,000 (residual there), residual 225,000. fifo: GA 300,000,
GP 100,000 (returned 400,000), S3 100,000, residual 100,000. A lake without `loan_guarantees` finds nothing.

L2 lends 800,000.00 into A5 (only inflow) which pays a shell 300,000, another bank's repayment account
200,000 and the supplier S3 100,000; S3 (inflow 1,000,000) pays a repayment account 100,000: 10,000 of it
traced, a stop in return-flow mode and `intermediary_repayment` in misuse mode (a loan repaid through a third
party within the hop limit; transfers carry no loan reference, so it cannot be told from S3's own debt).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.risk.tracing import queries, related, rules, service
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service.batch import UNREAD

from .lake import SH, T0, A, golden_rows, write

Y = 100  # fen per yuan

EXPECTED: dict[tuple[str, str, str], dict[str, int]] = {
    ("L1", "return_flow", "pro_rata"): {
        "returned": 295_000 * Y, "securities": 50_000 * Y, "real_estate": 125_000 * Y, "servicing": 5_000 * Y,
        "stop": 25_000 * Y, "residual": 500_000 * Y,
    },
    ("L1", "return_flow", "fifo"): {
        "returned": 590_000 * Y, "securities": 100_000 * Y, "real_estate": 250_000 * Y, "stop": 50_000 * Y,
        "residual": 10_000 * Y,
    },
    ("L1", "misuse", "pro_rata"): {
        "securities": 6_818_181, "real_estate": 125_000 * Y, "servicing": 5_000 * Y, "stop": 25_000 * Y,
        "cycle": 75_000 * Y, "residual": 70_181_819,
    },
    ("L1", "misuse", "fifo"): {
        "securities": 150_000 * Y, "real_estate": 250_000 * Y, "stop": 50_000 * Y, "cycle": 150_000 * Y,
        "residual": 400_000 * Y,
    },
    ("L2", "return_flow", "pro_rata"): {"other_loan": 200_000 * Y, "stop": 10_000 * Y, "residual": 590_000 * Y},
    ("L4", "return_flow", "pro_rata"): {"returned": 300_000 * Y, "residual": 300_000 * Y},
    ("L4", "return_flow", "fifo"): {"returned": 400_000 * Y, "residual": 200_000 * Y},
    ("L4", "misuse", "pro_rata"): {"residual": 600_000 * Y},  # guarantors pass money on, as related parties do
    ("L2", "misuse", "pro_rata"): {
        "shell": 300_000 * Y, "other_loan": 200_000 * Y, "intermediary_repayment": 10_000 * Y,
        "residual": 290_000 * Y,
    },
}  # fmt: skip
PER_HOP: dict[tuple[str, str, str], dict[tuple[int, str], int]] = {
    ("L1", "return_flow", "pro_rata"): {
        (1, "returned"): 200_000 * Y, (2, "returned"): 95_000 * Y, (1, "securities"): 50_000 * Y,
        (2, "real_estate"): 125_000 * Y, (1, "servicing"): 5_000 * Y, (2, "stop"): 25_000 * Y,
        (0, "residual"): 495_000 * Y, (1, "residual"): 5_000 * Y,
    },
    ("L1", "misuse", "pro_rata"): {
        (1, "securities"): 50_000 * Y, (2, "securities"): 1_818_181, (2, "real_estate"): 125_000 * Y,
        (1, "servicing"): 5_000 * Y, (2, "stop"): 25_000 * Y, (2, "cycle"): 75_000 * Y,
        (0, "residual"): 495_000 * Y, (1, "residual"): 18_681_819, (2, "residual"): 20_000 * Y,
    },
    ("L4", "return_flow", "pro_rata"): {
        (1, "returned"): 300_000 * Y, (0, "residual"): 225_000 * Y, (1, "residual"): 75_000 * Y,
    },
    ("L4", "return_flow", "fifo"): {
        (1, "returned"): 400_000 * Y, (0, "residual"): 100_000 * Y, (1, "residual"): 100_000 * Y,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden") / "lake"
    write(Lake(root), golden_rows())
    return root


@pytest.fixture(scope="module")
def engine(lake: Path) -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine(lake)
    yield eng
    eng.close()


def _stores(engine: DuckDBEngine, lake: Path) -> service.Stores:
    return service.Stores(engine, lake, b"k" * 32)


def _single(engine: DuckDBEngine, lake: Path, loan_id: str, mode: str, params: TraceParams) -> service.Traced:
    loan = queries.loan(engine, loan_id, "H1")
    assert loan is not None
    return service.trace_loan(_stores(engine, lake), loan, params, mode, "H1")


def _by_kind(nodes: list[dict[str, Any]]) -> dict[str, int]:
    return {k: v for k, v in rules.balance(nodes).items() if v}


def _read(by: dict[Any, int]) -> dict[Any, int]:
    """Of a by-kind or by-(hop, kind) map, what a batch keeps (`batch.UNREAD` left out)."""
    return {k: v for k, v in by.items() if (k[1] if isinstance(k, tuple) else k) not in UNREAD}


def _by_hop(rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = defaultdict(int)
    for r in rows:
        if r["kind"] in rules.BALANCE_KINDS:
            out[(int(r["hop"]), str(r["kind"]))] += int(r["traced"])
    return dict(out)


def _batch(engine: DuckDBEngine, lake: Path, request: BatchRequest) -> service.Found:
    start = dt.datetime(2024, 2, 29, 16, tzinfo=dt.UTC)
    end = dt.datetime(2024, 3, 31, 16, tzinfo=dt.UTC)
    loans = queries.batch_loans(
        engine,
        {"root_code": "H1", "loans_from_month": "2024-03", "loans_to_month": "2024-03", "disbursed_from": start,
         "disbursed_to": end},
    )  # fmt: skip
    return service.trace_batch(_stores(engine, lake), "H1", loans, request, start, end)


@pytest.mark.parametrize(("loan_id", "mode", "policy"), sorted(EXPECTED))
def test_single_trace_pins_every_fen(
    engine: DuckDBEngine, lake: Path, loan_id: str, mode: str, policy: str
) -> None:
    traced = _single(engine, lake, loan_id, mode, TraceParams(policy=policy))  # type: ignore[arg-type]
    assert _by_kind(traced.trace.nodes) == EXPECTED[(loan_id, mode, policy)]
    assert sum(_by_kind(traced.trace.nodes).values()) == traced.loan_fen
    if (loan_id, mode, policy) in PER_HOP:
        assert _by_hop(traced.trace.nodes) == PER_HOP[(loan_id, mode, policy)]


@pytest.mark.parametrize(
    ("mode", "policy"), [("return_flow", "pro_rata"), ("misuse", "pro_rata"), ("misuse", "fifo")]
)
def test_a_batch_traces_every_loan_in_the_same_statements(
    engine: DuckDBEngine, lake: Path, mode: str, policy: str
) -> None:
    request = BatchRequest(policy=policy, from_date=dt.date(2024, 3, 1), to_date=dt.date(2024, 3, 31))  # type: ignore[arg-type]
    found = _batch(engine, lake, request)[mode]
    assert set(found) == {"L1", "L2"}
    for loan_id, nodes in found.items():
        single = _single(engine, lake, loan_id, mode, request).trace.nodes
        # a batch keeps the node kinds its rows read (not the tracer's structure: batch.UNREAD)
        assert _by_hop(nodes) == _read(_by_hop(single))
        assert not any(n["kind"] in UNREAD for n in nodes)
        if (loan_id, mode, policy) in EXPECTED:
            assert _by_kind(nodes) == _read(EXPECTED[(loan_id, mode, policy)])


def _ledger() -> rules.Ledger:
    return rules.Ledger(
        rules.Transfer(
            t["txn_id"],
            dt.datetime.fromisoformat(t["ts"]).astimezone(dt.UTC),
            t["from_account"],
            t["to_account"],
            int(Decimal(t["amount"]) * 100),
        )
        for t in golden_rows()["transfers"]
    )


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_the_lake_path_is_the_pure_tracer_over_the_same_ledger(
    engine: DuckDBEngine, lake: Path, policy: str
) -> None:
    traced = _single(engine, lake, "L1", "return_flow", TraceParams(policy=policy))  # type: ignore[arg-type]
    own = {A["A0"], A["AG"]}
    related = own | {A["R1"], A["RC"]}
    categories = {
        A["SEC"]: "securities_settlement",
        A["DEV"]: "real_estate_developer",
        A["PAY"]: "payment_processor",
    }

    def classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
        facts = rules.AccountFacts(
            category="loan_repayment" if dst == A["REP1"] else categories.get(dst),
            bank_code="O1" if dst == A["REP1"] else None,
            parent_code="B1" if dst == A["REP1"] else None,
            rel_rank=(1 if dst in own else 2) if dst in related else None,
        )
        return rules.classify_edge("return_flow", facts, src_own, src in related, "B1")

    settings = rules.TraceSettings(policy=policy)
    reference = rules.trace(_ledger(), A["A0"], 1_000_000 * Y, T0.astimezone(dt.UTC), settings, classify)
    key = lambda r: (r["hop"], r["account"], r["kind"])  # noqa: E731
    assert sorted(map(key, reference.nodes)) == sorted(map(key, traced.trace.nodes))
    assert {key(r): r["traced"] for r in reference.nodes} == {key(r): r["traced"] for r in traced.trace.nodes}
    assert sorted(map(key, reference.edges)) == sorted(map(key, traced.trace.edges))


def test_dust_drops_small_arrivals(engine: DuckDBEngine, lake: Path) -> None:
    traced = _single(engine, lake, "L1", "return_flow", TraceParams(dust=Decimal("30000")))
    assert _by_kind(traced.trace.nodes) == {
        "returned": 275_000 * Y, "securities": 50_000 * Y, "real_estate": 125_000 * Y,
        "dust": 50_000 * Y, "residual": 500_000 * Y,
    }  # fmt: skip


def test_hubs_are_not_followed_but_own_accounts_always_are(engine: DuckDBEngine, lake: Path) -> None:
    # X has two transfers out in the window; A0 (the borrower's own account) has five.
    params = TraceParams.model_construct(**{**TraceParams().model_dump(), "hub_degree": 2})
    nodes = _single(engine, lake, "L1", "return_flow", params).trace.nodes
    assert _by_kind(nodes) == {
        "returned": 220_000 * Y, "securities": 50_000 * Y, "real_estate": 125_000 * Y, "servicing": 5_000 * Y,
        "hub": 100_000 * Y, "residual": 500_000 * Y,
    }  # fmt: skip


def test_fewer_hops_leave_money_open_and_a_shorter_window_drops_late_transfers(
    engine: DuckDBEngine, lake: Path
) -> None:
    one_hop = _by_kind(_single(engine, lake, "L1", "return_flow", TraceParams(max_hops=1)).trace.nodes)
    assert one_hop["returned"] == 200_000 * Y
    assert one_hop["open"] == 250_000 * Y  # X and AG, still moving
    short = _by_kind(_single(engine, lake, "L1", "return_flow", TraceParams(window_days=1)).trace.nodes)
    # Within a day: inflow 1,000,000 (the customer pays after exactly a day, at the window's last instant),
    # outflow R1, X, SEC = 700,000: pool 2,000,000 when the customer's payment counts (ts <= t0 + 1 day).
    assert short["returned"] == 200_000 * Y + 75_000 * Y
    assert "real_estate" not in short


def test_evidence_timestamps_are_the_first_traced_arrival(engine: DuckDBEngine, lake: Path) -> None:
    traced = _single(engine, lake, "L1", "return_flow", TraceParams())
    paths = rules.top_paths(traced.trace.nodes, traced.trace.edges, ["returned"], 5)
    assert [(p.amount, [s.account for s in p.steps]) for p in paths] == [
        (200_000 * Y, [A["A0"], A["R1"]]),
        (75_000 * Y, [A["A0"], A["X"], A["R1"]]),
        (20_000 * Y, [A["A0"], A["AG"], A["RC"]]),
    ]
    assert paths[1].steps[1].first_ts == dt.datetime(2024, 3, 1, 12, tzinfo=SH)


# -- guarantors ------------------------------------------------------------------------------------------------


def test_guarantors_are_related_parties_of_their_loan_only(engine: DuckDBEngine, lake: Path) -> None:
    traced = _single(engine, lake, "L4", "return_flow", TraceParams())
    assert [(p.relation, p.accounts) for p in traced.related.summary()] == [
        ("own", 1), ("legal_rep", 1), ("shareholder", 1), ("guarantor", 3),  # the rep holds all shares
    ]  # fmt: skip
    views = {a: related.view(A[a], traced.related, b"k" * 32) for a in ("GA", "GP", "R4")}
    assert {a: v.relation for a, v in views.items()} == {
        "GA": "guarantor",
        "GP": "guarantor",
        "R4": "legal_rep",
    }
    paths = rules.top_paths(traced.trace.nodes, traced.trace.edges, ["returned"], 5)
    assert [(p.amount, [s.account for s in p.steps]) for p in paths] == [
        (225_000 * Y, [A["A4"], A["GA"]]),
        (75_000 * Y, [A["A4"], A["GP"]]),
    ]
    l1 = _single(engine, lake, "L1", "return_flow", TraceParams())
    assert "guarantor" not in {p.relation for p in l1.related.summary()}


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_a_batch_finds_the_guarantors_of_each_loan(engine: DuckDBEngine, lake: Path, policy: str) -> None:
    start = dt.datetime(2024, 3, 31, 16, tzinfo=dt.UTC)
    end = dt.datetime(2024, 4, 30, 16, tzinfo=dt.UTC)
    loans = queries.batch_loans(
        engine,
        {"root_code": "H1", "loans_from_month": "2024-04", "loans_to_month": "2024-04", "disbursed_from": start,
         "disbursed_to": end},
    )  # fmt: skip
    request = BatchRequest(policy=policy, from_date=dt.date(2024, 4, 1), to_date=dt.date(2024, 4, 30))  # type: ignore[arg-type]
    found = service.trace_batch(_stores(engine, lake), "H1", loans, request, start, end)["return_flow"]
    assert set(found) == {"L4"}
    assert _by_kind(found["L4"]) == _read(EXPECTED[("L4", "return_flow", policy)])
    assert _by_hop(found["L4"]) == _read(PER_HOP[("L4", "return_flow", policy)])


def test_a_lake_without_guarantees_traces_as_before(tmp_path: Path) -> None:
    """Lakes loaded before the hub took guarantees have no `loan_guarantees` files: no guarantors, no error."""
    rows = {k: v for k, v in golden_rows().items() if k != "loan_guarantees"}
    write(Lake(tmp_path / "lake"), rows)
    old = DuckDBEngine(tmp_path / "lake")
    try:
        for key in sorted(k for k in EXPECTED if k[0] != "L4"):
            assert (
                _by_kind(
                    _single(old, tmp_path / "lake", key[0], key[1], TraceParams(policy=key[2])).trace.nodes
                )
                == (  # type: ignore[arg-type]
                    EXPECTED[key]
                )
            )
        l4 = _single(old, tmp_path / "lake", "L4", "return_flow", TraceParams())
        assert _by_kind(l4.trace.nodes) == {"residual": 600_000 * Y}
        assert "guarantor" not in {p.relation for p in l4.related.summary()}
        # The guarantees' first load is seen by the next statement of the same engine.
        write(Lake(tmp_path / "lake"), {"loan_guarantees": golden_rows()["loan_guarantees"]}, load_id="L2")
        again = _single(old, tmp_path / "lake", "L4", "return_flow", TraceParams())
        assert _by_kind(again.trace.nodes) == EXPECTED[("L4", "return_flow", "pro_rata")]
    finally:
        old.close()
