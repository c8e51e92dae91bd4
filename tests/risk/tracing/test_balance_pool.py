"""Pro rata's two pools, hand-computed (the worked example of docs/risk-tracing.md, "Pools").

The borrower (account OWN) receives a 1,000,000 loan on day 0 and pays supplier S 400,000 on day 1. S's balance
of record is 600,000 as of day -10; since then it received 100,000 (day -5) and paid 300,000 (day -3), so it
held 400,000 when the traced money arrived. After it, S pays the borrower's legal representative R 200,000
(day 2) and 100,000 (day 3), and nothing else comes in.

- today:   pool = max(400,000, inflow 400,000, outflow 300,000) = 400,000 -> 200,000 + 100,000 = 300,000
           returned to R (hop 2), 100,000 stays at S.
- balance: pool = max(400,000, held 400,000 + inflow 400,000, 300,000) = 800,000 -> 100,000 + 50,000 =
           150,000 returned, 250,000 stays at S (residual).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics.flowindex import FlowIndexes
from jinyu.core.auth import OrgKind, Role
from jinyu.governance.contracts import CONTRACTS
from jinyu.risk.tracing import rules, service
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service.base import RESIDENT_BATCH_METHOD, RESIDENT_SINGLE_METHOD
from jinyu.risk.tracing.service.context import ResidentContexts
from tests.fixtures.auth import make_org, principal

from .lake import SH, table, write

KEY = b"k" * 32
T0 = dt.datetime(2024, 3, 11, 10, 0, tzinfo=SH)
BORROWER, SUPPLIER, REP = "91500000POOLSS0001", "91500000POOLSS0002", "pt_rep_pool"
OWN, S, R, X = "9001", "9002", "9003", "9004"  # X: an unrelated customer of S


def _at(days: float) -> str:
    return (T0 + dt.timedelta(days=days)).isoformat()


def _rows() -> dict[str, list[dict[str, Any]]]:
    banks = [{"org_code": c, "name": c, "level": lv, "parent_code": p, "district_code": "500103"}
             for c, lv, p in (("H1", "head_office", None), ("B1", "branch", "H1"))]  # fmt: skip
    ents = {BORROWER: REP, SUPPLIER: "pt_rep_supplier"}
    enterprises = [
        {"uscc": u, "name": f"企业{u}", "industry_code": "F5176", "district_code": "500103",
         "registered_capital": "1000000.00", "established_on": "2010-01-01", "address": f"地址{u}",
         "phone": None, "legal_rep_id": rep, "legal_rep_name": "张*", "status": "active"}
        for u, rep in ents.items()
    ]  # fmt: skip
    holders = [{"uscc": u, "holder_type": "person", "holder_id": rep, "holder_name": "张*", "share_ratio": "100.00"}
               for u, rep in ents.items()]  # fmt: skip
    activity = [{"uscc": u, "period": "2024-01"} for u in ents]
    owners = (
        (OWN, "enterprise", BORROWER),
        (S, "enterprise", SUPPLIER),
        (R, "person", REP),
        (X, "person", "pt_x"),
    )
    accounts = [
        {"account_no": a, "bank_code": "B1", "owner_type": t, "owner_id": u, "owner_name": u[-6:],
         "category": "personal" if t == "person" else "corporate_settlement", "opened_on": "2015-01-01",
         "currency": "CNY"}
        for a, t, u in owners
    ]  # fmt: skip
    loans = [{"loan_id": "LP", "bank_code": "B1", "borrower_uscc": BORROWER, "disbursement_account": OWN,
              "amount": "1000000.00", "disbursed_at": T0.isoformat(), "term_months": 12,
              "declared_purpose": "working_capital"}]  # fmt: skip

    def tx(txn: str, days: float, src: str, dst: str, amount: str) -> dict[str, Any]:
        return {"txn_id": txn, "ts": _at(days), "from_account": src, "to_account": dst, "amount": amount,
                "currency": "CNY", "channel": "online", "memo": "货款"}  # fmt: skip

    transfers = [
        tx("P1", -5, X, S, "100000.00"),  # before the loan: S's balance moves
        tx("P2", -3, S, X, "300000.00"),
        tx("T1", 1, OWN, S, "400000.00"),
        tx("T2", 2, S, R, "200000.00"),
        tx("T3", 3, S, R, "100000.00"),
    ]
    return {"banks": banks, "enterprises": enterprises, "shareholders": holders, "tax_monthly": activity,
            "headcount_monthly": activity, "accounts": accounts, "loans": loans, "transfers": transfers}  # fmt: skip


AS_OF = (T0 - dt.timedelta(days=10)).date()  # day -10


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[service.Stores]:
    root: Path = tmp_path_factory.mktemp("pool") / "lake"
    lake = Lake(root)
    write(lake, _rows())
    balances = [{"account_no": S, "as_of": AS_OF.isoformat(), "balance": "600000.00", "currency": "CNY"},
                {"account_no": OWN, "as_of": AS_OF.isoformat(), "balance": "0.00", "currency": "CNY"}]  # fmt: skip
    contract = CONTRACTS["opening_balances"]
    lake.append("opening_balances", table("opening_balances", balances), "OB", partition_by=None,
                sort_by=contract.sort_by)  # fmt: skip
    engine = DuckDBEngine(root)
    yield service.Stores(engine, root, KEY)
    engine.close()


def test_allocate_with_what_was_held() -> None:
    assert rules.allocate_pro_rata(400_000, 400_000, [200_000, 100_000]) == [200_000, 100_000]
    assert rules.allocate_pro_rata(400_000, 400_000, [200_000, 100_000], held=400_000) == [100_000, 50_000]
    assert rules.allocate_pro_rata(400_000, 400_000, [200_000, 100_000], held=-5) == [200_000, 100_000]


def test_the_reference_ledger_rolls_the_balance_forward() -> None:
    at = lambda d: (T0 + dt.timedelta(days=d)).astimezone(dt.UTC)  # noqa: E731
    ledger = rules.Ledger(
        [rules.Transfer("P1", at(-5), X, S, 100_000), rules.Transfer("P2", at(-3), S, X, 300_000),
         rules.Transfer("T1", at(1), OWN, S, 400_000)],
        {S: [(dt.datetime.combine(AS_OF, dt.time(0), SH).astimezone(dt.UTC), 600_000)]},
    )  # fmt: skip
    node = rules.Frontier("LP", S, 400_000, at(1), False, at(30))
    assert ledger.held(node) == 400_000  # 600,000 + 100,000 - 300,000; the traced arrival itself is not held


@pytest.mark.parametrize(
    ("pool", "returned", "residual"),
    [("today", "300000.00", "700000.00"), ("balance", "150000.00", "850000.00")],
)
def test_both_pools_end_to_end(
    session: Session, stores: service.Stores, pool: str, returned: str, residual: str
) -> None:
    hq = principal(
        session, make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1", name="一行"), Role.BANK_HQ_RISK
    )
    result = service.return_flow(session, hq, stores, "LP", TraceParams(pool=pool))  # type: ignore[arg-type]
    assert result.returned_amount == Decimal(returned)
    # residual: 600,000 never left the borrower, plus what stays at S (100,000 today, 250,000 balance)
    assert {x.kind: x.amount for x in result.attribution} == {
        "returned": Decimal(returned),
        "residual": Decimal(residual),
    }
    assert result.basis.params.pool == pool
    batch = BatchRequest(from_date=dt.date(2024, 3, 1), to_date=dt.date(2024, 3, 31), pool=pool)  # type: ignore[arg-type]
    assert [r.returned_amount for r in service.run_batch(session, hq, stores, batch).rows] == [
        Decimal(returned)
    ]


@pytest.fixture(scope="module")
def resident_stores(stores: service.Stores) -> service.Stores:
    """The same lake as a serving process reads it: hops on the resident index, balances of record resident."""
    flows, contexts = FlowIndexes(), ResidentContexts()
    flows.warm(stores.lake_root)
    contexts.get(stores.lake_root)
    assert flows.wait(120) and contexts.wait(120)
    return replace(stores, flows=flows, contexts=contexts)


@pytest.mark.parametrize(("pool", "returned"), [("today", "300000.00"), ("balance", "150000.00")])
def test_both_pools_on_the_resident_index(
    session: Session, resident_stores: service.Stores, pool: str, returned: str
) -> None:
    hq = principal(
        session, make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1", name="一行"), Role.BANK_HQ_RISK
    )
    result = service.return_flow(session, hq, resident_stores, "LP", TraceParams(pool=pool))  # type: ignore[arg-type]
    assert result.returned_amount == Decimal(returned)
    assert result.basis.method == RESIDENT_SINGLE_METHOD  # no statement: the balances are resident too
    batch = BatchRequest(from_date=dt.date(2024, 3, 1), to_date=dt.date(2024, 3, 31), pool=pool)  # type: ignore[arg-type]
    answer = service.run_batch(session, hq, resident_stores, batch)
    assert [r.returned_amount for r in answer.rows] == [Decimal(returned)]
    assert answer.basis.method == RESIDENT_BATCH_METHOD
    # the balance pool's result depends on the balances of record: its data version counts their file
    plain = service.return_flow(session, hq, resident_stores, "LP", TraceParams(pool="today"))
    extra = 1 if pool == "balance" else 0
    assert result.basis.data_version.files == plain.basis.data_version.files + extra
