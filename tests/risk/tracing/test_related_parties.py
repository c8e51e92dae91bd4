"""Declared related parties and chains of control in tracing, pinned to the fen on a hand-built lake.

The golden region (lake.py) plus L5 (May, after every other window): 1,000,000.00 into A6 of the borrower
"declarer" (held 80% by "mid", itself held 70% by "parent"; it holds 60% of "hold", which holds 55% of
"chained"). A6 pays, an hour apart, 100,000 each to AF (declared affiliate: B1's credit file), GM (group member
in the registry's list, no bank code), CC ("chained": controlled two levels down), OB (declared an affiliate
by the other bank, B2) and EX (a declaration that ended before the loan), and 50,000 to UP ("parent":
controls the borrower two levels up). A6 has no other inflow, so pro rata and FIFO both pass whole amounts:
returned 350,000 (AF, GM, CC, UP), OB and EX not related (their 200,000 stays there as residual), and
450,000 stays in A6: residual 650,000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.risk.tracing import queries, related, rules, service
from jinyu.risk.tracing.schemas import TraceParams

from .lake import SH, golden_rows, write

Y = 100
T5 = dt.datetime(2024, 5, 20, 10, 0, tzinfo=SH)
U5 = {
    "declarer": "91500000RELATE0001",
    "affil": "91500000RELATE0002",
    "group": "91500000RELATE0003",
    "chained": "91500000RELATE0004",
    "other": "91500000RELATE0005",
    "expired": "91500000RELATE0006",
    "hold": "91500000RELATE0007",
    "mid": "91500000RELATE0008",
    "parent": "91500000RELATE0009",
}
A5 = {"A6": "6101", "AF": "6102", "GM": "6103", "CC": "6104", "OB": "6105", "EX": "6106", "UP": "6107"}
OWNER = {"A6": "declarer", "AF": "affil", "GM": "group", "CC": "chained", "OB": "other", "EX": "expired",
         "UP": "parent"}  # fmt: skip


def _rows() -> dict[str, list[dict[str, Any]]]:
    rows = golden_rows()
    for n, key in enumerate(U5, start=1):
        rows["enterprises"].append({
            "uscc": U5[key], "name": f"重庆关联{n}有限公司", "industry_code": "F5176", "district_code": "500103",
            "registered_capital": "1000000.00", "established_on": "2012-01-01", "address": f"巴南区{n}号",
            "phone": None, "legal_rep_id": f"pt_rep_rel_{n}", "legal_rep_name": "李*", "status": "active",
        })  # fmt: skip

    def hold(uscc: str, holder_type: str, holder: str, ratio: str) -> dict[str, Any]:
        return {"uscc": uscc, "holder_type": holder_type, "holder_id": holder, "holder_name": "某",
                "share_ratio": ratio}  # fmt: skip

    rows["shareholders"] += [
        hold(U5["declarer"], "enterprise", U5["mid"], "80.00"),
        hold(U5["declarer"], "person", "pt_rep_rel_1", "20.00"),
        hold(U5["mid"], "enterprise", U5["parent"], "70.00"),
        hold(U5["mid"], "person", "pt_somebody_else", "30.00"),
        hold(U5["hold"], "enterprise", U5["declarer"], "60.00"),
        hold(U5["hold"], "person", "pt_rep_rel_7", "40.00"),
        hold(U5["chained"], "enterprise", U5["hold"], "55.00"),
        hold(U5["chained"], "person", "pt_rep_rel_4", "45.00"),
    ]
    for key, number in A5.items():
        rows["accounts"].append({
            "account_no": number, "bank_code": "O1", "owner_type": "enterprise", "owner_id": U5[OWNER[key]],
            "owner_name": OWNER[key], "category": "corporate_settlement", "opened_on": "2015-01-01",
            "currency": "CNY",
        })  # fmt: skip
    rows["loans"].append({
        "loan_id": "L5", "bank_code": "B1", "borrower_uscc": U5["declarer"], "disbursement_account": A5["A6"],
        "amount": "1000000.00", "disbursed_at": T5.isoformat(), "term_months": 12,
        "declared_purpose": "working_capital",
    })  # fmt: skip

    def declared(
        related_id: str, relation: str, source: str, bank: str | None, to: str | None
    ) -> dict[str, Any]:
        return {"owner_uscc": U5["declarer"], "related_type": "enterprise", "related_id": related_id,
                "related_name": "某公司", "relation": relation, "source": source, "bank_code": bank,
                "valid_from": "2023-01-01", "valid_to": to}  # fmt: skip

    rows["related_parties"] = [
        declared(U5["affil"], "affiliate", "credit_file", "B1", None),
        declared(U5["group"], "group_member", "group_registry", None, "2024-12-31"),
        declared(U5["other"], "affiliate", "credit_file", "B2", None),  # the other bank's: not H1's to see
        declared(U5["expired"], "affiliate", "credit_file", "B1", "2024-05-19"),  # ended the day before
    ]
    first = len(rows["transfers"]) + 1
    flows = [("7004", A5["A6"], "1000000.00", 0)] + [
        (A5["A6"], A5[k], "100000.00", h) for h, k in enumerate(("AF", "GM", "CC", "OB", "EX"), start=1)
    ] + [(A5["A6"], A5["UP"], "50000.00", 6)]  # fmt: skip
    for i, (src, dst, amount, hours) in enumerate(flows):
        rows["transfers"].append({
            "txn_id": f"T{first + i:04d}", "ts": (T5 + dt.timedelta(hours=hours)).isoformat(),
            "from_account": src, "to_account": dst, "amount": amount, "currency": "CNY", "channel": "online",
            "memo": None,
        })  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("related") / "lake"
    write(Lake(root), _rows())
    return root


@pytest.fixture(scope="module")
def engine(lake: Path) -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine(lake)
    yield eng
    eng.close()


def _trace(engine: DuckDBEngine, lake: Path, policy: str, root: str = "H1") -> service.Traced:
    loan = queries.loan(engine, "L5", root)
    assert loan is not None
    stores = service.Stores(engine, lake, b"k" * 32)
    return service.trace_loan(stores, loan, TraceParams(policy=policy), "return_flow", root)  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_declared_and_chain_relations_return_exactly(engine: DuckDBEngine, lake: Path, policy: str) -> None:
    traced = _trace(engine, lake, policy)
    balance = {k: v for k, v in rules.balance(traced.trace.nodes).items() if v}
    assert balance == {"returned": 350_000 * Y, "residual": 650_000 * Y}
    returned = {str(n["account"]): int(n["traced"]) for n in traced.trace.nodes if n["kind"] == "returned"}
    assert returned == {
        A5["AF"]: 100_000 * Y,
        A5["GM"]: 100_000 * Y,
        A5["CC"]: 100_000 * Y,
        A5["UP"]: 50_000 * Y,
    }


def test_each_hit_names_its_relation_and_source(engine: DuckDBEngine, lake: Path) -> None:
    traced = _trace(engine, lake, "pro_rata")
    views = {k: related.view(A5[k], traced.related, b"k" * 32) for k in ("AF", "GM", "CC", "UP", "OB", "EX")}
    assert {k: (v.relation, v.relation_source) for k, v in views.items()} == {
        "AF": ("declared", "declared:affiliate:credit_file"),
        "GM": ("declared", "declared:group_member:group_registry"),
        "CC": ("control_chain", "derived:shareholders"),
        "UP": ("control_chain", "derived:shareholders"),
        "OB": (None, None),
        "EX": (None, None),
    }


def test_another_bank_sees_its_own_declarations_only(engine: DuckDBEngine, lake: Path) -> None:
    """Bank 2's declaration is related for bank 2's loan context, never for bank 1's: the context query
    scopes declarations to the caller's tree (the registry's rows are everyone's)."""
    params = {"loan_id": "L5", "loan_month": "2024-05", "root_code": "H1", "window_days": 30,
              "shell_age_days": 365}  # fmt: skip
    mine = {r["account_no"] for r in queries.context(engine, "return_flow", params, batch=False)}
    assert A5["AF"] in mine and A5["GM"] in mine and A5["OB"] not in mine
    # The same query rooted at bank 2 finds no loan (L5 is bank 1's), so nothing about it leaks either.
    theirs = queries.context(engine, "return_flow", params | {"root_code": "H2"}, batch=False)
    assert theirs == []
