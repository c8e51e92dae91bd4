"""The refund rule: table-driven pure checks, and a tiny lake where a loan pays four suppliers who send money
back (a marked full refund, a marked refund less a 0.5% fee, an unmarked transfer of the same amount, and a
marked one 2% short). Amounts below are hand-derived (FIFO: the borrower's 1,000,000 pays every purchase in
full; each supplier's only outgoing transfer carries min(amount, what it received)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import OrgKind, Role
from jinyu.risk.tracing import refunds, service
from jinyu.risk.tracing.refunds import Movement
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.tracer import Trace
from tests.fixtures.auth import make_org, principal

from .lake import SH, write

KEY = b"k" * 32
T0 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=SH)
BORROWER, OWN = "91500000REFUND0001", "8001"
SUPPLIERS = {"S1": "8101", "S2": "8102", "S3": "8103", "S4": "8104"}


def mv(
    txn: str, days: float, src: str, dst: str, fen: int, channel: str = "online", memo: str | None = None
) -> Movement:
    return Movement(txn, T0 + dt.timedelta(days=days), src, dst, fen, channel, memo)


@pytest.mark.parametrize(
    ("channel", "memo", "expected"),
    [
        ("reversal", None, True),
        ("online", "退货退款", True),
        ("online", "货款冲正", True),
        ("mobile", "REFUND order 12", True),  # case-folded
        ("online", "ｒｅｆｕｎｄ", True),  # full-width letters: NFKC
        ("online", "货款", False),
        ("online", None, False),
        ("batch", "退回", False),  # "退回" alone is not a refund word (退回货款 is)
    ],
)
def test_marked(channel: str, memo: str | None, expected: bool) -> None:
    assert refunds.marked(channel, memo) is expected


PURCHASE = mv("P", 1, "A", "S", 100_000_00)


@pytest.mark.parametrize(
    ("reversal", "expected"),
    [
        (mv("R", 2, "S", "A", 100_000_00, "reversal"), True),
        (mv("R", 2, "S", "A", 99_000_00, "reversal"), True),  # 1% fee: the bound, inclusive
        (mv("R", 2, "S", "A", 98_999_99, "reversal"), False),  # one fen below the bound
        (mv("R", 2, "S", "A", 100_000_01, "reversal"), False),  # more than was paid
        (mv("R", 31, "S", "A", 100_000_00, "reversal"), True),  # 30 days after the purchase, inclusive
        (mv("R", 31.001, "S", "A", 100_000_00, "reversal"), False),
        (mv("R", 1, "S", "A", 100_000_00, "reversal"), False),  # not after the purchase
        (mv("R", 2, "S", "B", 100_000_00, "reversal"), False),  # to someone else
        (mv("R", 2, "S", "A", 100_000_00, "online", "货款"), False),  # unmarked
    ],
)
def test_reverses(reversal: Movement, expected: bool) -> None:
    assert refunds.reverses(PURCHASE, reversal) is expected


def test_each_transfer_is_matched_once_closest_amount_first() -> None:
    purchases = [mv("P1", 1, "A", "S", 50_000_00), mv("P2", 2, "A", "S", 50_500_00)]
    reversals = [mv("R1", 3, "S", "A", 50_000_00, memo="退款"), mv("R2", 4, "S", "A", 50_000_00, memo="退款")]
    pairs = refunds.match(purchases, reversals)
    assert [(p.txn_id, r.txn_id) for p, r in pairs] == [("P1", "R1"), ("P2", "R2")]


def _row(
    hop: int, account: str, kind: str, fen: int, first: float, last: float, src: str | None = None
) -> dict[str, Any]:
    at = (T0 + dt.timedelta(days=first), T0 + dt.timedelta(days=last))
    return {"hop": hop, "src": src, "account": account, "kind": kind, "traced": fen,
            "first_ts": at[0], "last_ts": at[1], "txn_count": 1}  # fmt: skip


def test_split_moves_the_refunded_part_of_a_mixed_edge() -> None:
    """S received 600 traced from A (two purchases of 300) and sent back 300 (a refund of one) and 100
    (unmarked), carrying 200 traced in all: the refund part is 200 × 300 / 400 = 150; 50 stays returned."""
    trace = Trace(
        nodes=[
            _row(0, "A", "origin", 1000, 0, 0),
            _row(1, "S", "pass", 600, 1, 1),
            _row(2, "A", "returned", 200, 2, 3),
        ],
        edges=[_row(1, "S", "pass", 600, 1, 1, "A"), _row(2, "A", "returned", 200, 2, 3, "S")],
    )
    moves = [mv("P", 1, "A", "S", 300), mv("Q", 1, "A", "S", 300)]
    moves += [mv("R", 2, "S", "A", 300, memo="退款"), mv("X", 3, "S", "A", 100)]
    out, found = refunds.split(trace, moves)
    assert [(r.amount, r.purchases, r.reversals) for r in found] == [(150, ("P",), ("R",))]
    assert {(n["kind"], n["traced"]) for n in out.nodes if n["hop"] == 2} == {
        ("returned", 50),
        ("refund", 150),
    }
    assert sum(n["traced"] for n in out.nodes if n["kind"] != "pass") == sum(
        n["traced"] for n in trace.nodes if n["kind"] != "pass"
    )


def test_no_refund_without_a_traced_purchase() -> None:
    """The reversal refunds a purchase the trace did not carry (A paid S before the loan): not a refund."""
    trace = Trace(
        nodes=[
            _row(0, "A", "origin", 1000, 0, 0),
            _row(1, "B", "pass", 600, 1, 1),
            _row(2, "A", "returned", 600, 2, 2),
        ],
        edges=[_row(1, "B", "pass", 600, 1, 1, "A"), _row(2, "A", "returned", 600, 2, 2, "B")],
    )
    assert refunds.candidate_pairs(trace) == [("B", "A")]
    out, found = refunds.split(trace, [mv("P", -3, "A", "B", 600), mv("R", 2, "B", "A", 600, "reversal")])
    assert found == [] and out is trace


# -- end to end on a tiny lake -------------------------------------------------------------------------------


def _rows() -> dict[str, list[dict[str, Any]]]:
    banks = [{"org_code": c, "name": c, "level": lv, "parent_code": p, "district_code": "500103"}
             for c, lv, p in (("H1", "head_office", None), ("B1", "branch", "H1"))]  # fmt: skip
    ents = {BORROWER: "pt_rep_b", **{f"91500000REFUND010{k[-1]}": f"pt_rep_{k}" for k in SUPPLIERS}}
    enterprises = [
        {"uscc": u, "name": f"企业{u}", "industry_code": "F5176", "district_code": "500103",
         "registered_capital": "1000000.00", "established_on": "2010-01-01", "address": f"地址{u}",
         "phone": None, "legal_rep_id": rep, "legal_rep_name": "张*", "status": "active"}
        for u, rep in ents.items()
    ]  # fmt: skip
    owners = {OWN: BORROWER, **{a: f"91500000REFUND010{k[-1]}" for k, a in SUPPLIERS.items()}}
    accounts = [
        {"account_no": a, "bank_code": "B1", "owner_type": "enterprise", "owner_id": u, "owner_name": u[-6:],
         "category": "corporate_settlement", "opened_on": "2015-01-01", "currency": "CNY"}
        for a, u in owners.items()
    ]  # fmt: skip
    loans = [{"loan_id": "LR", "bank_code": "B1", "borrower_uscc": BORROWER, "disbursement_account": OWN,
              "amount": "1000000.00", "disbursed_at": T0.isoformat(), "term_months": 12,
              "declared_purpose": "working_capital"}]  # fmt: skip
    s = SUPPLIERS

    def tx(
        txn: str,
        days: float,
        src: str,
        dst: str,
        amount: str,
        channel: str = "online",
        memo: str | None = None,
    ) -> dict[str, Any]:
        return {"txn_id": txn, "ts": (T0 + dt.timedelta(days=days)).isoformat(), "from_account": src,
                "to_account": dst, "amount": amount, "currency": "CNY", "channel": channel, "memo": memo}  # fmt: skip

    transfers = [
        tx("T1", 1, OWN, s["S1"], "300000.00", memo="货款"),
        tx("T2", 3, s["S1"], OWN, "300000.00", "reversal", "退货"),  # full refund (channel)
        tx("T3", 1, OWN, s["S2"], "200000.00", memo="货款"),
        tx("T4", 2, s["S2"], OWN, "200000.00", memo="往来款"),  # same amount back, unmarked: return flow
        tx("T5", 1, OWN, s["S3"], "100000.00", memo="货款"),
        tx("T6", 4, s["S3"], OWN, "99500.00", memo="退款（扣手续费）"),  # refund less a 0.5% fee
        tx("T7", 1, OWN, s["S4"], "50000.00", memo="货款"),
        tx("T8", 4, s["S4"], OWN, "49000.00", memo="refund"),  # 2% short: outside the tolerance
    ]
    holders = [
        {"uscc": u, "holder_type": "person", "holder_id": rep, "holder_name": "张*", "share_ratio": "100.00"}
        for u, rep in ents.items()
    ]
    activity = [{"uscc": u, "period": "2024-01"} for u in ents]
    return {
        "banks": banks,
        "enterprises": enterprises,
        "shareholders": holders,
        "tax_monthly": activity,
        "headcount_monthly": activity,
        "accounts": accounts,
        "loans": loans,
        "transfers": transfers,
    }


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[service.Stores]:
    root: Path = tmp_path_factory.mktemp("refunds") / "lake"
    write(Lake(root), _rows())
    engine = DuckDBEngine(root)
    yield service.Stores(engine, root, KEY)
    engine.close()


def test_refunds_are_reported_and_not_return_flow(session: Session, stores: service.Stores) -> None:
    hq = principal(
        session, make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1", name="一行"), Role.BANK_HQ_RISK
    )
    result = service.return_flow(session, hq, stores, "LR", TraceParams(policy="fifo"))
    # returned: S2's unmarked 200,000 and S4's 49,000 (2% short); refunds: 300,000 (S1) + 99,500 (S3)
    assert (result.returned_amount, result.refunded_amount) == (Decimal("249000.00"), Decimal("399500.00"))
    assert [(r.amount, r.purchase_txn_ids, r.reversal_txn_ids, r.hop) for r in result.refunds] == [
        (Decimal("300000.00"), ["T1"], ["T2"], 2),
        (Decimal("99500.00"), ["T5"], ["T6"], 2),
    ]
    assert all(r.payer.account == OWN and r.payer.party == "borrower" for r in result.refunds)
    assert all(
        r.payee.party == "outside" and r.payee.account not in SUPPLIERS.values() for r in result.refunds
    )
    attribution = {x.kind: x.amount for x in result.attribution}
    assert attribution == {
        "returned": Decimal("249000.00"),
        "refund": Decimal("399500.00"),
        "residual": Decimal("351500.00"),  # 350,000 never left the borrower; 500 (S3) and 1,000 (S4) stayed
    }
    batch = BatchRequest(from_date=dt.date(2024, 3, 1), to_date=dt.date(2024, 3, 31), policy="fifo")
    rows = service.run_batch(session, hq, stores, batch).rows
    assert [(r.returned_amount, r.refunded_amount) for r in rows] == [
        (Decimal("249000.00"), Decimal("399500.00"))
    ]
