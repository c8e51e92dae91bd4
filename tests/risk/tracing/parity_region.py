"""Rows the fund-tracing queries need in the analytics parity region (tests/analytics/region.py).

The region has banks, accounts of twelve enterprises and six people, and random transfers from January to
June 2024. This adds the registry rows (enterprises, shareholders, loans, loan guarantees), accounts of the stop and
prohibited categories, and a few planted flows, each as loads of their own so the region's other rows stay
as they are. `CASES` are the parity cases of every tracing query (the first of each returns rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jinyu.analytics import Lake
from tests.analytics import region
from tests.analytics.tables import load

from .lake import SH, table

LOAD = "TRACING"


def _people() -> tuple[list[str], list[str]]:
    return region.ENTERPRISES, region.PEOPLE  # read late: region.py imports this module while it loads


def _account_of(owner: str) -> str:
    return next(a["account_no"] for a in region._accounts() if a["owner_id"] == owner)


SPECIAL = [
    ("8100000001", "H1-B1-O1", "enterprise", "915000000000BROKER", "securities_settlement"),
    ("8100000002", "H1-B1-O2", "enterprise", "915000000000DEVELO", "real_estate_developer"),
    ("8100000003", "H1-B1-O1", "processor", "915000000000PROCES", "payment_processor"),
    ("8100000004", "H1-B1-O1", "bank", "915000000000BANK01", "loan_repayment"),
    ("8100000005", "H2-B1-O1", "bank", "915000000000BANK02", "loan_repayment"),
    ("8100000006", "H1-B1-O1", "bank", "915000000000BANK01", "bank_internal"),
    (
        "8100000007",
        "H1-B1-O2",
        "enterprise",
        "9150000000000000" + "12",
        "corporate_settlement",
    ),  # a new shell
]
T1 = dt.datetime(2024, 2, 10, 10, 0, tzinfo=SH)
T2 = dt.datetime(2024, 3, 5, 9, 30, tzinfo=SH)


def add(lake: Lake) -> None:
    E, P = _people()

    def ent(i: int, rep: str, established: str, address: str, phone: str | None) -> dict[str, Any]:
        return {
            "uscc": E[i], "name": f"企业{i}", "industry_code": "C3511" if i % 2 else "F5176",
            "district_code": "500103", "registered_capital": "1000000.00", "established_on": established,
            "address": address, "phone": phone, "legal_rep_id": rep, "legal_rep_name": "李*", "status": "active",
        }  # fmt: skip

    enterprises = [ent(i, P[i % 6], "2015-01-01", f"地址{i}", f"023-{i:04d}") for i in range(12)]
    enterprises[1]["legal_rep_id"] = P[0]  # same legal representative as E0
    enterprises[2]["address"] = "地址0"  # same address as E0
    enterprises[11]["established_on"] = "2023-12-01"  # new, and no tax or staff in the region
    shareholders = [
        {"uscc": E[i], "holder_type": "person", "holder_id": P[i % 6], "holder_name": "李*", "share_ratio": "60.00"}
        for i in range(12)
    ] + [
        {"uscc": E[i], "holder_type": "enterprise", "holder_id": E[5], "holder_name": "企业5", "share_ratio": "40.00"}
        for i in (0, 3, 4)
    ] + [  # a chain of control: E0 holds 55% of E10, which holds 51% of E11
        {"uscc": E[10], "holder_type": "enterprise", "holder_id": E[0], "holder_name": "企业0",
         "share_ratio": "55.00"},
        {"uscc": E[11], "holder_type": "enterprise", "holder_id": E[10], "holder_name": "企业10",
         "share_ratio": "51.00"},
    ]  # fmt: skip
    loans = [
        {"loan_id": "PL1", "bank_code": "H1-B1", "borrower_uscc": E[0], "disbursement_account": _account_of(E[0]),
         "amount": "800000.00", "disbursed_at": T1.isoformat(), "term_months": 12,
         "declared_purpose": "working_capital"},
        {"loan_id": "PL2", "bank_code": "H1-B2", "borrower_uscc": E[3], "disbursement_account": _account_of(E[3]),
         "amount": "500000.00", "disbursed_at": T2.isoformat(), "term_months": 24, "declared_purpose": "equipment"},
        {"loan_id": "PL3", "bank_code": "H2-B1", "borrower_uscc": E[6], "disbursement_account": _account_of(E[6]),
         "amount": "300000.00", "disbursed_at": T1.isoformat(), "term_months": 12,
         "declared_purpose": "working_capital"},
    ]  # fmt: skip
    accounts = [
        {"account_no": no, "bank_code": bank, "owner_type": kind, "owner_id": owner, "owner_name": owner[-6:],
         "category": category, "opened_on": dt.date(2019, 1, 1), "currency": "CNY"}
        for no, bank, kind, owner, category in SPECIAL
    ]  # fmt: skip
    a0, a3, person = _account_of(E[0]), _account_of(E[3]), _account_of(P[0])
    flows = [
        ("8100000006", a0, "800000.00", T1, {}),
        (a0, person, "300000.00", T1, {"hours": 2}),  # to the legal representative
        (a0, "8100000001", "150000.00", T1, {"hours": 5}),
        (a0, _account_of(E[2]), "120000.00", T1, {"days": 1}),  # same address
        (person, "8100000002", "90000.00", T1, {"days": 2}),
        (_account_of(E[7]), a0, "400000.00", T1, {"days": 3}),
        (a0, "8100000004", "3000.00", T1, {"days": 10}),
        ("8100000006", a3, "500000.00", T2, {}),
        (a3, "8100000007", "250000.00", T2, {"hours": 1}),  # a shell
        (a3, "8100000005", "100000.00", T2, {"hours": 3}),  # another bank's loan
        (a3, "8100000003", "50000.00", T2, {"days": 1}),
    ]
    transfers = [
        {"txn_id": f"TR{i:04d}", "ts": (base + dt.timedelta(**delta)).astimezone(dt.UTC), "from_account": src,
         "to_account": dst, "amount": amount, "currency": "CNY", "channel": "online", "memo": None}
        for i, (src, dst, amount, base, delta) in enumerate(flows, start=1)
    ]  # fmt: skip
    guarantees = [
        {"loan_id": loan, "guarantor_type": kind, "guarantor_id": gid, "guarantor_name": "担保人",
         "guarantee_type": gtype, "amount": amount, "signed_on": signed}
        for loan, kind, gid, gtype, amount, signed in (
            ("PL1", "enterprise", E[9], "joint_liability", "800000.00", "2024-02-08"),  # related only so
            ("PL1", "person", P[4], "general", "400000.00", "2024-01-30"),  # a person's accounts by token
            ("PL1", "person", P[0], "joint_liability", "800000.00", "2024-02-08"),  # also the legal rep
            ("PL2", "enterprise", E[0], "mortgage", "500000.00", "2024-03-01"),
        )
    ]  # fmt: skip
    declared = [
        {"owner_uscc": owner, "related_type": kind, "related_id": rid, "related_name": "关联方", "relation": rel,
         "source": source, "bank_code": bank, "valid_from": dt.date(2023, 1, 1), "valid_to": to}
        for owner, kind, rid, rel, source, bank, to in (
            (E[0], "enterprise", E[7], "affiliate", "credit_file", "H1-B1", None),
            (E[0], "enterprise", E[8], "group_member", "group_registry", None, dt.date(2025, 1, 1)),
            (E[0], "enterprise", E[9], "affiliate", "credit_file", "H2-B1", None),  # the other bank's
            (E[0], "person", P[5], "family", "customer_declared", "H1-B1", dt.date(2024, 1, 31)),  # ended
            (E[4], "enterprise", E[3], "mutual_guarantee", "credit_file", "H1", None),  # declared the other way
        )
    ]  # fmt: skip
    for dataset, rows in (
        ("enterprises", enterprises), ("shareholders", shareholders), ("loans", loans),
        ("loan_guarantees", guarantees), ("related_parties", declared),
        ("opening_balances", [  # balances of record, for statement verification's opening-balance check
            {"account_no": _account_of(E[0]), "as_of": dt.date(2024, m, 1), "balance": f"{m}000.00",
             "currency": "CNY"} for m in (1, 2)
        ]),
    ):  # fmt: skip
        _append(lake, dataset, rows)
    load(lake, "accounts", accounts, LOAD)
    load(lake, "transfers", transfers, LOAD)


def _append(lake: Lake, dataset: str, rows: list[dict[str, Any]]) -> None:
    from jinyu.governance.contracts import CONTRACTS

    contract = CONTRACTS[dataset]
    lake.append(
        dataset, table(dataset, rows), LOAD, partition_by=contract.partition_by, sort_by=contract.sort_by
    )


FEB_MAR = {
    "loans_from_month": "2024-02",
    "loans_to_month": "2024-03",
    "disbursed_from": dt.datetime(2024, 1, 31, 16, tzinfo=dt.UTC),
    "disbursed_to": dt.datetime(2024, 3, 31, 16, tzinfo=dt.UTC),
}
LOAN = {"root_code": "H1", "window_days": 30, "shell_age_days": 365}
SHELLS = {
    "new_since": dt.date(2023, 2, 10),
    "until": dt.date(2024, 4, 30),
    "act_from": "2023-02",
    "to_month": "2024-04",
}


PAIR_WINDOW = {
    "from_ts": T1 - dt.timedelta(days=1),
    "to_ts": T2 + dt.timedelta(days=40),
    "from_month": "2024-02",
    "to_month": "2024-04",
}


def _micros(value: dt.datetime) -> int:
    return (value.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def cases() -> Mapping[str, list[Mapping[str, object]]]:
    E, P = _people()
    a0, a3, rep = _account_of(E[0]), _account_of(E[3]), _account_of(P[0])
    until1, until2 = _micros(T1 + dt.timedelta(days=30)), _micros(T2 + dt.timedelta(days=30))
    frontier = ",".join(
        [
            f"PL1|{a0}|80000000|{_micros(T1)}|1|{until1}",
            f"PL1|{rep}|30000000|{_micros(T1) + 7_200_000_000}|0|{until1}",
            f"PL2|{a3}|50000000|{_micros(T2)}|1|{until2}",
        ]
    )
    hop = {"frontier": frontier, "from_month": "2024-02", "to_month": "2024-04"}
    return {
        "tracing_loan": [{"loan_id": "PL1", "root_code": "H1"}, {"loan_id": "PL1", "root_code": "H2"}],
        "tracing_bank_tree": [{"root_code": "H1"}, {"root_code": "H1-B1"}, {"root_code": "NOPE"}],
        "tracing_batch_loans": [{"root_code": "H1", **FEB_MAR}, {"root_code": "H2-B1", **FEB_MAR}],
        "tracing_special_accounts": [{}],
        "tracing_context_return_flow": [
            {"loan_id": "PL1", "loan_month": "2024-02", **LOAN},
            {"loan_id": "PL3", "loan_month": "2024-02", **LOAN},
        ],
        "tracing_context_misuse": [
            {"loan_id": "PL2", "loan_month": "2024-03", **LOAN, **SHELLS},
            {"loan_id": "PL1", "loan_month": "2024-02", **LOAN, **SHELLS},
        ],
        "tracing_batch_context_return_flow": [{**FEB_MAR, **LOAN}, {**FEB_MAR, **LOAN, "root_code": "H2"}],
        "tracing_batch_context_misuse": [
            {**FEB_MAR, **LOAN, **SHELLS},
            {**FEB_MAR, **LOAN, **SHELLS, "window_days": 1},
        ],
        "tracing_hop_fifo": [{**hop, "hub_degree": 1000}, {**hop, "hub_degree": 2}],
        "tracing_hop_pro_rata": [{**hop, "hub_degree": 1000}, {**hop, "hub_degree": 2}],
        "tracing_hop_pro_rata_balance": [{**hop, "hub_degree": 1000}, {**hop, "hub_degree": 2}],
        "tracing_pair_transfers": [
            {"pairs": f"{a0}|{rep},{rep}|{a0},{a0}|{a3},{a3}|{a0}", **PAIR_WINDOW},
            {"pairs": "8100000001|nothing", **PAIR_WINDOW},
        ],
        "statement_balance_of_record": [
            {"account_no": a0, "on_day": dt.date(2024, 2, 15)},
            {"account_no": a0, "on_day": dt.date(2023, 12, 31)},
        ],
        "tracing_accounts": [{"accounts": f"{a0},8100000001,nothing"}, {"accounts": "none"}],
    }
