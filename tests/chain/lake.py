"""A hand-built chain region whose every figure is worked out in the tests (amounts in yuan, Shanghai time).

new_display: materials m1, m2; panels c (the core enterprise); modules d1; dealers r1; devices has nobody.
x is a region enterprise outside every chain; P a person. In 2024-03 c pays m1 600,000 and m2 400,000,
d1 pays c 1,000,000, r1 pays d1 300,000, m1 pays x 200,000 and x pays m2 400,000. Earlier: c paid m1 50,000
in 2023-10; m1 pays P 1,000 a month 2023-10..2024-02.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jinyu.analytics import Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import ARROW_TYPES
from tests.fixtures.auth import uscc

SH = dt.timezone(dt.timedelta(hours=8))
U = {name: uscc(900 + i) for i, name in enumerate(("m1", "m2", "c", "d1", "r1", "x"))}
PERSON = "500101198506141234"
SEGMENT = {"m1": "materials", "m2": "materials", "c": "panels", "d1": "modules", "r1": "dealers"}
INDUSTRY = {"m1": "C3985", "m2": "C3042", "c": "C3974", "d1": "C3979", "r1": "F5176", "x": "K7020"}
ACCOUNT = {name: f"62{i:08d}" for i, name in enumerate([*U, "P"])}


def _table(dataset: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in CONTRACTS[dataset].columns])
    columns = {f.name: [_value(f.type, r.get(f.name)) for r in rows] for f in schema}
    return pa.table(columns, schema=schema)


def _value(kind: pa.DataType, value: Any) -> Any:
    if isinstance(value, str) and kind == pa.decimal128(18, 2):
        return Decimal(value)
    if isinstance(value, str) and kind == pa.date32():
        return dt.date.fromisoformat(value)
    if isinstance(value, str) and kind == pa.timestamp("us", tz="UTC"):
        return dt.datetime.fromisoformat(value).replace(tzinfo=SH).astimezone(dt.UTC)
    return value


def write(lake: Lake, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    for dataset, data in rows.items():
        c = CONTRACTS[dataset]
        lake.append(
            dataset,
            _table(dataset, data),
            f"L-{dataset}",
            partition_by=c.partition_by,
            sort_by=c.sort_by,
            mirrors=dict(c.mirrors) or None,
        )


def _transfer(n: int, payer: str, payee: str, amount: str, ts: str) -> dict[str, Any]:
    return {
        "txn_id": f"T{n:06d}",
        "ts": ts,
        "from_account": ACCOUNT[payer],
        "to_account": ACCOUNT[payee],
        "amount": amount,
        "currency": "CNY",
        "channel": "online",
        "memo": None,
    }


def rows() -> dict[str, list[dict[str, Any]]]:
    flows = [
        ("c", "m1", "600000.00", "2024-03-05T10:00:00"),
        ("c", "m2", "400000.00", "2024-03-06T10:00:00"),
        ("d1", "c", "1000000.00", "2024-03-07T10:00:00"),
        ("r1", "d1", "300000.00", "2024-03-08T10:00:00"),
        ("m1", "x", "200000.00", "2024-03-09T10:00:00"),
        ("x", "m2", "400000.00", "2024-03-10T10:00:00"),
        ("c", "m1", "50000.00", "2023-10-10T10:00:00"),
    ] + [
        ("m1", "P", "1000.00", f"{m}-15T10:00:00")
        for m in ("2023-10", "2023-11", "2023-12", "2024-01", "2024-02")
    ]
    return {
        "banks": [
            {
                "org_code": "H1",
                "name": "嘉陵银行股份有限公司",
                "level": "head_office",
                "district_code": "500103",
            },
            {
                "org_code": "H2",
                "name": "山城银行股份有限公司",
                "level": "head_office",
                "district_code": "500103",
            },
            {
                "org_code": "B1",
                "name": "嘉陵银行渝中支行",
                "level": "branch",
                "parent_code": "H1",
                "district_code": "500103",
            },
            {
                "org_code": "B2",
                "name": "山城银行渝中支行",
                "level": "branch",
                "parent_code": "H2",
                "district_code": "500103",
            },
        ],
        "enterprises": [
            {
                "uscc": U[n],
                "name": f"企业{n}",
                "industry_code": INDUSTRY[n],
                "district_code": "500103",
                "registered_capital": "1000000.00",
                "established_on": "2015-01-01",
                "address": "地址",
                "legal_rep_id": "pt_rep",
                "legal_rep_name": "李*",
                "status": "active",
            }
            for n in U
        ],
        "chain_members": [
            {
                "chain_code": "new_display",
                "chain_name": "新型显示产业链",
                "segment": s,
                "uscc": U[n],
                "is_core": n == "c",
            }
            for n, s in SEGMENT.items()
        ],
        "accounts": [
            {
                "account_no": ACCOUNT[n],
                "bank_code": "B1",
                "owner_type": "person" if n == "P" else "enterprise",
                "owner_id": PERSON if n == "P" else U[n],
                "owner_name": n,
                "category": "corporate_settlement",
                "opened_on": "2020-01-01",
                "currency": "CNY",
            }
            for n in ACCOUNT
        ],
        "transfers": [_transfer(i, *f) for i, f in enumerate(flows, start=1)],
        "loans": [
            {
                "loan_id": "L1",
                "bank_code": "B1",
                "borrower_uscc": U["c"],
                "disbursement_account": ACCOUNT["c"],
                "amount": "30000000.00",
                "disbursed_at": "2024-01-10T10:00:00",
                "term_months": 36,
                "declared_purpose": "equipment",
            },
            {
                "loan_id": "L2",
                "bank_code": "B2",
                "borrower_uscc": U["m1"],
                "disbursement_account": ACCOUNT["m1"],
                "amount": "1000000.00",
                "disbursed_at": "2024-02-10T10:00:00",
                "term_months": 12,
                "declared_purpose": "working_capital",
            },
            {
                "loan_id": "L3",
                "bank_code": "B1",
                "borrower_uscc": U["c"],
                "disbursement_account": ACCOUNT["c"],
                "amount": "50000000.00",
                "disbursed_at": "2024-04-10T10:00:00",
                "term_months": 12,
                "declared_purpose": "working_capital",
            },
            {
                "loan_id": "L4",
                "bank_code": "B1",
                "borrower_uscc": U["x"],
                "disbursement_account": ACCOUNT["x"],
                "amount": "9000000.00",
                "disbursed_at": "2024-04-10T10:00:00",
                "term_months": 12,
                "declared_purpose": "working_capital",
            },
        ],
        "headcount_monthly": [
            {
                "uscc": U[n],
                "period": p,
                "social_insurance_count": hc,
                "provident_fund_count": hc,
                "provident_fund_amount": "1000.00",
            }
            for n, counts in (("m1", (100, 100)), ("m2", (100, 50)), ("d1", (20, 20)), ("c", (500, 520)))
            for p, hc in zip(("2023-09", "2024-03"), counts, strict=True)
        ],
        "tax_monthly": [
            {"uscc": U["c"], "period": "2023-03", "sales_declared": "900000.00", "tax_paid": "100000.00"},
            {"uscc": U["c"], "period": "2024-03", "sales_declared": "900000.00", "tax_paid": "80000.00"},
            # the counterparties' tax change as of 2024-03 (tests/chain/test_api.py): m1 paid 40,000 in the
            # earlier year (2022-04..2023-03) and 45,000 + 5,000 in the last (2023-04..2024-03); d1 90,000
            # then 70,000; m2 nothing
            {"uscc": U["m1"], "period": "2023-02", "sales_declared": "400000.00", "tax_paid": "40000.00"},
            {"uscc": U["m1"], "period": "2023-09", "sales_declared": "450000.00", "tax_paid": "45000.00"},
            {"uscc": U["m1"], "period": "2024-01", "sales_declared": "50000.00", "tax_paid": "5000.00"},
            {"uscc": U["d1"], "period": "2022-12", "sales_declared": "900000.00", "tax_paid": "90000.00"},
            {"uscc": U["d1"], "period": "2023-12", "sales_declared": "700000.00", "tax_paid": "70000.00"},
        ],
        "judicial": [
            {
                "case_no": "（2024）渝0103民初1号",
                "uscc": U["d1"],
                "role": "executed",
                "case_type": "contract",
                "filed_on": "2024-02-01",
                "amount": "50000.00",
                "status": "open",
            },
        ],
    }
