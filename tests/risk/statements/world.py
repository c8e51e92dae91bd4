"""A tiny lake around one enterprise account, and statements of it as CSV text.

Account A of 重庆甲科技有限公司 has seven transfers in March 2024 (Asia/Shanghai), one on each context day
around it (29 February, 1 April), and other accounts trade in January to April, so those months are covered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from jinyu.analytics import Lake
from tests.analytics.tables import load

A, B, Q = "110000100000000001", "110000100000000002", "110000100000000003"
P1, P2, PERSON_ACCOUNT = "6222881000000000017", "6222881000000000025", "6222881000000000033"
SH = dt.timezone(dt.timedelta(hours=8))

# txn_id, Shanghai time, payer, payee, amount, memo
TRANSFERS = [
    ("T01", "2024-03-01 09:15", B, A, "12000.00", "货款"),
    ("T02", "2024-03-04 10:30", A, Q, "3500.00", "服务费"),
    ("T03", "2024-03-08 09:05", A, P1, "6500.00", "代发工资"),
    ("T04", "2024-03-08 09:06", A, P2, "5800.00", "代发工资"),
    ("T05", "2024-03-15 14:00", Q, A, "800.50", None),
    ("T06", "2024-03-20 16:45", A, B, "2000.00", "货款"),
    ("T07", "2024-03-31 23:30", B, A, "100.00", None),
    ("T08", "2024-02-29 23:40", B, A, "50.00", None),
    ("T09", "2024-04-01 00:10", A, B, "75.00", None),
    ("X01", "2024-01-10 10:00", B, Q, "1.00", None),
    ("X02", "2024-02-10 10:00", Q, B, "2.00", None),
    ("X03", "2024-03-10 10:00", B, Q, "3.00", None),
    ("X04", "2024-04-10 10:00", P1, B, "4.00", None),
]
NAMES = {B: "重庆乙贸易有限公司", Q: "重庆丙服务有限公司", P1: "张*", P2: "李*"}


def build_lake(root: Path, owner_uscc: str, person_id: str = "pt_person") -> Lake:
    lake = Lake(root)
    accounts = [
        _account(A, "enterprise", owner_uscc, "重庆甲科技有限公司"),
        _account(B, "enterprise", "91500000MA00000B01", NAMES[B]),
        _account(Q, "enterprise", "91500000MA00000Q01", NAMES[Q]),
        _account(P1, "person", "pt_1", NAMES[P1]),
        _account(P2, "person", "pt_2", NAMES[P2]),
        _account(PERSON_ACCOUNT, "person", person_id, "王*"),
    ]
    load(lake, "accounts", accounts)
    rows = [
        {
            "txn_id": txn,
            "ts": dt.datetime.fromisoformat(when).replace(tzinfo=SH).astimezone(dt.UTC),
            "from_account": payer,
            "to_account": payee,
            "amount": Decimal(amount),
            "currency": "CNY",
            "channel": "online",
            "memo": memo,
        }
        for txn, when, payer, payee, amount, memo in TRANSFERS
    ]
    load(lake, "transfers", rows)
    return lake


def _account(no: str, kind: str, owner: str, name: str) -> dict[str, object]:
    return {
        "account_no": no, "bank_code": "H1", "owner_type": kind, "owner_id": owner, "owner_name": name,
        "category": "corporate_settlement" if kind == "enterprise" else "personal",
        "opened_on": dt.date(2020, 1, 1), "currency": "CNY",
    }  # fmt: skip


# The genuine March statement of A: date, time, counterparty account, name, signed amount, reference, memo.
GENUINE = [
    ("2024-03-01", "09:15:00", B, "重庆乙贸易有限公司", "12000.00", "T01", "货款"),
    ("2024-03-04", "10:30:00", Q, "重庆丙服务有限公司", "-3500.00", "", "服务费"),
    ("2024-03-08", "09:05:00", "", "", "-12300.00", "", "代发工资"),  # the payroll batch as one line
    ("2024-03-16", "", "", "重庆丙服务有限责任公司", "800.50", "", ""),  # booked a day late, name varies
    ("2024-03-20", "16:45:00", B, "重庆乙贸易有限公司", "-2000.00", "T06", "货款"),
    ("2024-03-31", "23:30:00", "", "重庆乙贸易有限公司", "100.00", "", ""),
]
OPENING = Decimal("50000.00")


def csv_statement(
    rows: list[tuple[str, ...]],
    *,
    account: str = A,
    opening: Decimal = OPENING,
    period: tuple[str, str] = ("2024-03-01", "2024-03-31"),
    currency: str = "CNY",
    break_at: int | None = None,
) -> bytes:
    """A statement in the documented CSV layout; running balances are added (off by 1.00 at `break_at`)."""
    out = [
        f"account,{account}",
        "account_name,重庆甲科技有限公司",
        f"currency,{currency}",
        f"period_start,{period[0]}",
        f"period_end,{period[1]}",
        f"opening_balance,{opening}",
    ]
    body, balance = [], opening
    for k, (day, time, cp, name, amount, ref, memo) in enumerate(rows):
        balance += Decimal(amount)
        shown = balance + (1 if k == break_at else 0)
        body.append(f"{day},{time},{cp},{name},{amount},{shown},{ref},{memo}")
    out.append(f"closing_balance,{balance}")
    out += ["", "date,time,counterparty_account,counterparty_name,amount,balance,reference,memo", *body]
    return ("\n".join(out) + "\n").encode()
