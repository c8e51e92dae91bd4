"""Pieces of a settlement's Python, old way against new, interleaved in one process (issue 20, branch h-bf).

Why: on a shared 2-core machine a whole-batch A/B moves by ±15 % between rounds, more than the few per cent
each of these changes cuts. Here each piece runs as a settlement runs it (the counts per settlement are
those cProfile counted for batches of three), the old code beside the new, alternating blocks, so the
difference in microseconds per settlement is read in the same seconds. The calibration loop is recorded.

Pieces: a settlement row's and an audit entry's INSERT values (getattr per column / `core.db.column_values`);
a bill's funds and cash share (summed at each of ~14 reads / worked out once); the loaded-accumulator refresh
with nothing loaded (an identity key per total / none); ledger balances moved and read (the enum iterated,
`.value` read / a precomputed tuple).

Usage: uv run python benchmarks/bench_claims_pieces.py [--blocks 7] [--n 2000] [--out claims-pieces-h-bf.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_info, python_loop_ms, result_path
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.claim.models import ClaimAccumulator, ClaimSettlement
from jinyu.claim.rules.bill import PUBLIC_FUND_FIELDS, Bill
from jinyu.claim.rules.ledger import Account, Balances
from jinyu.claim.rules.product import ZERO
from jinyu.core.db import column_values, detached, new_id

D = Decimal


def _settlement() -> ClaimSettlement:
    now = dt.datetime.now(dt.UTC)
    return detached(
        ClaimSettlement,
        id=new_id(),
        channel="direct",
        status="settled",
        hospital_id=new_id(),
        product_id=new_id(),
        product_code="CQ-HMB-2025",
        product_version=1,
        policy_year=2025,
        enrollment_id=new_id(),
        person_token="p" * 64,
        id_masked="500101********1234",
        mdtrt_id="V0000000001",
        setl_id="S0000000001",
        interim=False,
        msg_id="B00000001",
        request_hash="h" * 64,
        setl_time=now,
        business_date=now.date(),
        medfee_sumamt=D("52000.00"),
        med_type="21",
        insutype=None,
        psn_token=None,
        act_pay_dedc=D("0.00"),
        funds=D("24000.00"),
        acct_pay=D("0.00"),
        cash_before=D("28000.00"),
        payout=D("4200.00"),
        cash_after=D("23800.00"),
        bill={"setlinfo": {"mdtrt_id": "V0000000001"}, "lines": []},
        result={"payout": "4200.00"},
        funding={"x": "4200.00"},
        note="",
        created_at=now,
        confirmed_at=now,
    )


def _entry() -> AuditEntry:
    return detached(
        AuditEntry,
        id=new_id(),
        at=dt.datetime.now(dt.UTC),
        actor_id=new_id(),
        actor_name="his-1",
        org_id=new_id(),
        tenant_id=new_id(),
        action="claim.settlement.settle",
        subject_type="claim_settlement",
        subject_ids='["x"]',
        purpose=None,
        outcome="ok",
        detail='{"payout":"4200.00"}',
        request_id=None,
        seq=None,
        prev_hash=None,
        hash=None,
    )


def _bill() -> Bill:
    return Bill(
        medfee_sumamt=D("52000.00"),
        fulamt_ownpay_amt=D("12000.00"),
        overlmt_selfpay=D("0.00"),
        preselfpay_amt=D("0.00"),
        inscp_scp_amt=D("40000.00"),
        hifp_pay=D("24000.00"),
    )


# --- the old code, as it was at 1efd68c


def _old_values(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in type(obj).__table__.columns}


def _old_funds(bill: Bill) -> Decimal:
    return sum((bill.amount(f) for f in (*PUBLIC_FUND_FIELDS, "oth_pay")), ZERO)


def _old_cash_before(bill: Bill) -> Decimal:
    return bill.medfee_sumamt - _old_funds(bill) - bill.acct_pay


def _old_refresh(session: Session, enrollment_id: str, amounts: dict[tuple[str, str], Decimal]) -> None:
    for (kind, code), _amount in amounts.items():
        key = session.identity_key(ClaimAccumulator, (enrollment_id, kind, code))
        session.identity_map.get(key)


def _new_refresh(session: Session, enrollment_id: str, amounts: dict[tuple[str, str], Decimal]) -> None:
    if not session.identity_map:
        return
    _old_refresh(session, enrollment_id, amounts)


def _old_apply(b: Balances, postings: list[tuple[Account, Decimal]]) -> dict[str, Decimal]:
    values = {a: b.of(a) for a in Account}
    for account, amount in postings:
        values[account] += amount
    after = Balances(**{a.value: v for a, v in values.items()})
    return {a.value: after.of(a) for a in Account}


def _new_apply(b: Balances, postings: list[tuple[Account, Decimal]]) -> dict[str, Decimal]:
    return b.apply(postings).as_dict()


# --- per settlement, as counted by cProfile (batches of three, 940 settlements)


def piece_rows(old: bool, n: int) -> float:
    rows = [(_settlement(), _entry()) for _ in range(n)]
    values = _old_values if old else column_values
    t0 = time.thread_time()
    for row, entry in rows:
        values(row)
        values(entry)
    return time.thread_time() - t0


def piece_bill(old: bool, n: int) -> float:
    bills = [_bill() for _ in range(n)]  # fresh bills: the new way works them out once each
    t0 = time.thread_time()
    for bill in bills:
        for _ in range(2):  # ~8 reads of funds and ~6 of cash_before per settlement
            if old:
                _old_funds(bill)
                _old_cash_before(bill)
                _old_cash_before(bill)
                _old_cash_before(bill)
                _old_funds(bill)
                _old_funds(bill)
                _old_funds(bill)
            else:
                _ = bill.funds
                _ = bill.cash_before
                _ = bill.cash_before
                _ = bill.cash_before
                _ = bill.funds
                _ = bill.funds
                _ = bill.funds
    return time.thread_time() - t0


def piece_refresh(old: bool, n: int) -> float:
    session = Session()
    amounts = {("deductible", "D1"): D("1.00"), ("liability", "L1"): D("2.00"), ("overall", "*"): D("3.00")}
    refresh = _old_refresh if old else _new_refresh
    t0 = time.thread_time()
    for _ in range(n):
        refresh(session, "en-1", amounts)
    return time.thread_time() - t0


def piece_balances(old: bool, n: int) -> float:
    b = Balances(prepaid=D("100000.00"))
    postings = [(Account.HELD, D("4200.00")), (Account.PREPAID, D("-4200.00"))]
    apply = _old_apply if old else _new_apply
    t0 = time.thread_time()
    for _ in range(n):
        apply(b, postings)  # ~1.5 per settlement: counted below
    return time.thread_time() - t0


PIECES = {
    "row_values": (piece_rows, 1.0),
    "bill_totals": (piece_bill, 1.0),
    "accumulator_refresh": (piece_refresh, 1.0),
    "ledger_balances": (piece_balances, 1.5),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--n", type=int, default=2000, help="settlements per block")
    ap.add_argument("--out", default="claims-pieces-h-bf.json")
    args = ap.parse_args()
    before = python_loop_ms()
    results: dict[str, Any] = {}
    for name, (piece, per) in PIECES.items():
        piece(True, 200), piece(False, 200)  # warm
        old_us, new_us = [], []
        for _ in range(args.blocks):
            old_us.append(1e6 * piece(True, args.n) / args.n * per)
            new_us.append(1e6 * piece(False, args.n) / args.n * per)
        o, n = statistics.median(old_us), statistics.median(new_us)
        results[name] = {
            "old_us_per_settlement": round(o, 2),
            "new_us_per_settlement": round(n, 2),
            "saved_us_per_settlement": round(o - n, 2),
        }
        print(name, results[name])
    total = sum(r["saved_us_per_settlement"] for r in results.values())
    print(f"saved in all: {total:.1f} µs per settlement")
    out = {
        "benchmark": "settlement pieces, old and new code interleaved (issue 20, h-bf)",
        "pieces": results,
        "saved_us_per_settlement": round(total, 1),
        "calibration": {"before": before, "after": python_loop_ms()},
        "machine": machine_info(),
    }
    target = result_path(args.out)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
