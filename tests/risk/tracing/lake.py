"""Tiny inline lakes for tracing tests: rows as dicts, written with the contracts' layouts.

`golden_rows()` is the hand-built region whose traces `test_golden.py` pins to the fen (the arithmetic is
written out there). Times are Asia/Shanghai wall clock; amounts yuan.
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

SH = dt.timezone(dt.timedelta(hours=8))
DATASETS = (
    "banks",
    "enterprises",
    "shareholders",
    "tax_monthly",
    "headcount_monthly",
    "accounts",
    "loans",
    "loan_guarantees",
    "related_parties",
    "transfers",
)


def table(dataset: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    contract = CONTRACTS[dataset]
    schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in contract.columns])
    columns = {f.name: [_value(f.type, r.get(f.name)) for r in rows] for f in schema}
    return pa.table(columns, schema=schema)


def _value(kind: pa.DataType, value: Any) -> Any:
    if isinstance(value, str):
        if kind == pa.decimal128(18, 2):
            return Decimal(value)
        if kind == pa.date32():
            return dt.date.fromisoformat(value)
        if kind == pa.timestamp("us", tz="UTC"):
            parsed = dt.datetime.fromisoformat(value)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SH)).astimezone(dt.UTC)
    if isinstance(value, int | float) and kind == pa.decimal128(18, 2):
        return Decimal(str(value))
    return value


def write(lake: Lake, rows: Mapping[str, Sequence[Mapping[str, Any]]], load_id: str = "L1") -> None:
    """Append every dataset of `rows` (in load order) as one load each."""
    for dataset in DATASETS:
        if not rows.get(dataset):
            continue
        contract = CONTRACTS[dataset]
        lake.append(
            dataset,
            table(dataset, rows[dataset]),
            load_id,
            partition_by=contract.partition_by,
            sort_by=contract.sort_by,
            mirrors=dict(contract.mirrors) or None,
        )


# -- the golden region -----------------------------------------------------------------------------------------

U = {  # unified social credit codes (shape only; the lake does not validate)
    "borrower": "91500000GOLDEN0001",
    "sister": "91500000GOLDEN0002",  # same legal representative as the borrower
    "supplier": "91500000GOLDEN0003",
    "shell": "91500000GOLDEN0004",  # registered two months before L2, no tax, no staff
    "second": "91500000GOLDEN0005",  # the borrower of L2
    "foreign": "91500000GOLDEN0006",  # a customer of the other bank
    "guarded": "91500000GOLDEN0007",  # the borrower of L4, whose loan has guarantors
    "guarantor": "91500000GOLDEN0008",  # a guarantee company: related to L4's borrower only as its guarantor
    "customer": "91500000GOLDEN0009",  # pays L4's borrower
}
REP = "pt_rep_of_borrower"
REP4 = "pt_rep_of_guarded"  # L4's borrower's legal representative, also one of its guarantors
GUARANTOR = "pt_guarantor_person"  # a person related to L4's borrower only as a guarantor
A = {  # accounts
    "A0": "6001",  # borrower, settlement at O1 (L1 disburses here)
    "AG": "6002",  # borrower, general account at O2
    "R1": "6003",  # the legal representative's personal account
    "RC": "6004",  # the sister company
    "S3": "6005",  # supplier
    "X": "6006",  # an unrelated person
    "SH": "6007",  # the shell
    "A5": "6008",  # L2's borrower
    "F": "6009",  # the other bank's customer
    "SEC": "7001",  # securities settlement
    "DEV": "7002",  # real-estate developer's escrow
    "PAY": "7003",  # payment processor
    "INT1": "7004",  # B1's internal account
    "REP1": "7005",  # B1's loan repayment account
    "REP2": "7006",  # B2's loan repayment account
    "INT2": "7007",  # B2's internal account
    "A4": "6010",  # L4's borrower (disbursement)
    "GA": "6011",  # the guarantee company
    "GP": "6012",  # the person guarantor
    "R4": "6013",  # L4's borrower's legal representative
    "C4": "6014",  # L4's borrower's customer
}
T0 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=SH)  # L1
T2 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=SH)  # L2
T4 = dt.datetime(2024, 4, 10, 10, 0, tzinfo=SH)  # L4, after every window of L1 and L2


def _at(base: dt.datetime, **delta: float) -> str:
    return (base + dt.timedelta(**delta)).isoformat()


def golden_rows() -> dict[str, list[dict[str, Any]]]:
    banks = [
        {
            "org_code": "H1",
            "name": "一行",
            "level": "head_office",
            "parent_code": None,
            "district_code": "500103",
        },
        {
            "org_code": "B1",
            "name": "一行渝中支行",
            "level": "branch",
            "parent_code": "H1",
            "district_code": "500103",
        },
        {
            "org_code": "O1",
            "name": "一行营业部",
            "level": "outlet",
            "parent_code": "B1",
            "district_code": "500103",
        },
        {
            "org_code": "H2",
            "name": "二行",
            "level": "head_office",
            "parent_code": None,
            "district_code": "500105",
        },
        {
            "org_code": "B2",
            "name": "二行江北支行",
            "level": "branch",
            "parent_code": "H2",
            "district_code": "500105",
        },
        {
            "org_code": "O2",
            "name": "二行营业部",
            "level": "outlet",
            "parent_code": "B2",
            "district_code": "500105",
        },
    ]

    def ent(
        key: str, name: str, rep: str, established: str, address: str, phone: str | None = None
    ) -> dict[str, Any]:
        return {
            "uscc": U[key], "name": name, "industry_code": "F5176", "district_code": "500103",
            "registered_capital": "1000000.00", "established_on": established, "address": address,
            "phone": phone, "legal_rep_id": rep, "legal_rep_name": "张*", "status": "active",
        }  # fmt: skip

    enterprises = [
        ent("borrower", "重庆借款科技有限公司", REP, "2015-06-01", "渝中区解放碑1号", "023-60000001"),
        ent("sister", "重庆姊妹贸易有限公司", REP, "2016-01-01", "渝中区较场口2号"),
        ent("supplier", "重庆供应材料有限公司", "pt_rep_supplier", "2010-01-01", "江北区观音桥3号"),
        ent("shell", "重庆空壳商务咨询有限公司", "pt_rep_shell", "2024-01-10", "渝北区某路4号"),
        ent("second", "重庆第二实业有限公司", "pt_rep_second", "2012-01-01", "南岸区南坪5号"),
        ent("foreign", "重庆他行客户有限公司", "pt_rep_foreign", "2012-01-01", "沙坪坝区6号"),
        ent("guarded", "重庆受保制造有限公司", REP4, "2014-01-01", "九龙坡区7号", "023-60000007"),
        ent(
            "guarantor",
            "重庆信保融资担保有限公司",
            "pt_rep_guarantor",
            "2011-01-01",
            "渝北区8号",
            "023-60000008",
        ),
        ent("customer", "重庆客户商贸有限公司", "pt_rep_customer", "2013-01-01", "北碚区9号"),
    ]
    shareholders = [
        {"uscc": U[k], "holder_type": "person", "holder_id": rep, "holder_name": "张*", "share_ratio": "100.00"}
        for k, rep in (
            ("borrower", REP), ("sister", REP), ("supplier", "pt_rep_supplier"), ("shell", "pt_rep_shell"),
            ("second", "pt_rep_second"), ("foreign", "pt_rep_foreign"), ("guarded", REP4),
            ("guarantor", "pt_rep_guarantor"), ("customer", "pt_rep_customer"),
        )
    ]  # fmt: skip
    active = ("borrower", "sister", "supplier", "second", "foreign", "guarded", "guarantor", "customer")
    months = [f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 7)]
    tax = [
        {"uscc": U[k], "period": m, "sales_declared": "100000.00", "tax_paid": "3000.00"}
        for k in active
        for m in months
    ]
    heads = [
        {"uscc": U[k], "period": m, "social_insurance_count": 5, "provident_fund_count": 5,
         "provident_fund_amount": "5000.00"}
        for k in active for m in months
    ]  # fmt: skip

    def acct(key: str, bank: str, owner_type: str, owner: str, category: str) -> dict[str, Any]:
        return {
            "account_no": A[key], "bank_code": bank, "owner_type": owner_type, "owner_id": owner,
            "owner_name": owner[-6:], "category": category, "opened_on": "2015-01-01", "currency": "CNY",
        }  # fmt: skip

    accounts = [
        acct("A0", "O1", "enterprise", U["borrower"], "corporate_settlement"),
        acct("AG", "O2", "enterprise", U["borrower"], "corporate_general"),
        acct("R1", "O1", "person", REP, "personal"),
        acct("RC", "O1", "enterprise", U["sister"], "corporate_settlement"),
        acct("S3", "O1", "enterprise", U["supplier"], "corporate_settlement"),
        acct("X", "O2", "person", "pt_somebody", "personal"),
        acct("SH", "O2", "enterprise", U["shell"], "corporate_settlement"),
        acct("A5", "O1", "enterprise", U["second"], "corporate_settlement"),
        acct("F", "O2", "enterprise", U["foreign"], "corporate_settlement"),
        acct("SEC", "O1", "enterprise", "91500000BROKER0001", "securities_settlement"),
        acct("DEV", "O2", "enterprise", "91500000DEVELOP001", "real_estate_developer"),
        acct("PAY", "O1", "processor", "91500000PROCESS001", "payment_processor"),
        acct("INT1", "O1", "bank", "91500000BANK000001", "bank_internal"),
        acct("REP1", "O1", "bank", "91500000BANK000001", "loan_repayment"),
        acct("REP2", "O2", "bank", "91500000BANK000002", "loan_repayment"),
        acct("INT2", "O2", "bank", "91500000BANK000002", "bank_internal"),
        acct("A4", "O1", "enterprise", U["guarded"], "corporate_settlement"),
        acct("GA", "O2", "enterprise", U["guarantor"], "corporate_settlement"),
        acct("GP", "O2", "person", GUARANTOR, "personal"),
        acct("R4", "O1", "person", REP4, "personal"),
        acct("C4", "O2", "enterprise", U["customer"], "corporate_settlement"),
    ]
    loans = [
        {"loan_id": "L1", "bank_code": "B1", "borrower_uscc": U["borrower"], "disbursement_account": A["A0"],
         "amount": "1000000.00", "disbursed_at": T0.isoformat(), "term_months": 12,
         "declared_purpose": "working_capital"},
        {"loan_id": "L2", "bank_code": "B1", "borrower_uscc": U["second"], "disbursement_account": A["A5"],
         "amount": "800000.00", "disbursed_at": T2.isoformat(), "term_months": 12, "declared_purpose": "equipment"},
        {"loan_id": "L3", "bank_code": "B2", "borrower_uscc": U["foreign"], "disbursement_account": A["F"],
         "amount": "500000.00", "disbursed_at": T0.isoformat(), "term_months": 12,
         "declared_purpose": "working_capital"},
        {"loan_id": "L4", "bank_code": "B1", "borrower_uscc": U["guarded"], "disbursement_account": A["A4"],
         "amount": "600000.00", "disbursed_at": T4.isoformat(), "term_months": 12,
         "declared_purpose": "working_capital"},
    ]  # fmt: skip
    guarantees = [
        {"loan_id": "L4", "guarantor_type": gtype, "guarantor_id": gid, "guarantor_name": name,
         "guarantee_type": kind, "amount": "600000.00", "signed_on": "2024-04-08"}
        for gtype, gid, name, kind in (
            ("enterprise", U["guarantor"], "重庆信保融资担保有限公司", "joint_liability"),
            ("person", GUARANTOR, "王*", "joint_liability"),
            ("person", REP4, "赵*", "joint_liability"),
        )
    ]  # fmt: skip
    flows = [
        # L1: disbursement and a customer's payment into A0 (the pool for pro rata is their sum, 2,000,000)
        ("INT1", "A0", "1000000.00", T0, {}),
        ("S3", "A0", "1000000.00", T0, {"days": 1}),
        ("A0", "R1", "400000.00", T0, {"hours": 1}),  # straight back to the legal representative
        ("A0", "X", "200000.00", T0, {"hours": 2}),
        ("A0", "SEC", "100000.00", T0, {"hours": 3}),  # bank-securities transfer
        ("A0", "AG", "300000.00", T0, {"days": 2}),  # to its own general account
        ("A0", "REP1", "10000.00", T0, {"days": 20}),  # interest to the lending branch
        ("A0", "S3", "500000.00", T0, {"days": 40}),  # after the 30-day window
        ("X", "R1", "150000.00", T0, {"days": 1}),
        ("X", "PAY", "50000.00", T0, {"days": 1, "hours": 1}),
        ("R1", "SEC", "50000.00", T0, {"days": 5}),
        ("AG", "DEV", "250000.00", T0, {"days": 3}),
        ("AG", "RC", "40000.00", T0, {"days": 4}),
        # L2
        ("INT1", "A5", "800000.00", T2, {}),
        ("A5", "SH", "300000.00", T2, {"hours": 1}),  # a shell company
        ("A5", "REP2", "200000.00", T2, {"hours": 2}),  # another bank's loan
        ("A5", "S3", "100000.00", T2, {"hours": 3}),
        ("F", "S3", "900000.00", T2, {"days": 1}),
        ("S3", "REP2", "100000.00", T2, {"days": 2}),  # the supplier services its own debt
        # L3 (the other bank's loan)
        ("INT2", "F", "500000.00", T0, {}),
        # L4: to its two guarantors that are nothing else to the borrower, and to the supplier
        ("INT1", "A4", "600000.00", T4, {}),
        ("A4", "GA", "300000.00", T4, {"hours": 1}),
        ("A4", "GP", "100000.00", T4, {"hours": 2}),
        ("A4", "S3", "100000.00", T4, {"hours": 3}),
        ("C4", "A4", "200000.00", T4, {"days": 1}),
    ]
    transfers = [
        {"txn_id": f"T{i:04d}", "ts": _at(base, **delta), "from_account": A[src], "to_account": A[dst],
         "amount": amount, "currency": "CNY", "channel": "online", "memo": None}
        for i, (src, dst, amount, base, delta) in enumerate(flows, start=1)
    ]  # fmt: skip
    return {
        "banks": banks,
        "enterprises": enterprises,
        "shareholders": shareholders,
        "tax_monthly": tax,
        "headcount_monthly": heads,
        "accounts": accounts,
        "loans": loans,
        "loan_guarantees": guarantees,
        "transfers": transfers,
    }
