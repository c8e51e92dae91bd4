"""Named analytics queries of statement verification (registered in jinyu.analytics on import).

The ledger lines of one account touch only the rows needed: outgoing transfers come from `transfers`
(files sorted by from_account, ts), incoming ones from its mirror `transfers_by_counterparty` (sorted by
to_account, ts); the month filter prunes partitions and the sort key's min/max statistics skip row groups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.analytics import Engine, Month, Query, register
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema

SHANGHAI_ZONE = "Asia/Shanghai"

STATEMENT_ACCOUNT = register(
    Query(
        name="statement_account",
        sql="""
SELECT account_no, bank_code, owner_type, owner_id, owner_name, category, currency
FROM accounts
WHERE account_no = $account_no
""",
        params={"account_no": str},
        description="对账单所属账户 / the account a statement is for, by account_no",
    )
)

STATEMENT_LEDGER_LINES = register(
    Query(
        name="statement_ledger_lines",
        sql="""
-- One account's ledger lines in [$from_ts, $to_ts), signed from its side: money out negative, in positive.
WITH lines AS (
    SELECT txn_id, ts, to_account AS counterparty_account, CAST(-amount AS DECIMAL(18, 2)) AS amount,
        channel, memo
    FROM transfers
    WHERE from_account = $account_no AND month BETWEEN $from_month AND $to_month
        AND ts >= $from_ts AND ts < $to_ts
    UNION ALL
    SELECT txn_id, ts, from_account AS counterparty_account, CAST(amount AS DECIMAL(18, 2)) AS amount,
        channel, memo
    FROM transfers_by_counterparty
    WHERE to_account = $account_no AND month BETWEEN $from_month AND $to_month
        AND ts >= $from_ts AND ts < $to_ts
)
SELECT l.txn_id, l.ts, l.counterparty_account, a.owner_name AS counterparty_name, a.category AS counterparty_category,
    l.amount, l.channel, l.memo
FROM lines AS l
LEFT JOIN accounts AS a ON a.account_no = l.counterparty_account
ORDER BY l.ts, l.txn_id, l.amount
""",
        params={
            "account_no": str,
            "from_ts": dt.datetime,
            "to_ts": dt.datetime,
            "from_month": Month,
            "to_month": Month,
        },
        description="某账户某期间的账本流水（付出为负）/ one account's ledger lines in a period, out negative",
    )
)

# Balances of record came to the hub after the ledger: a lake without them reads the dataset as empty.
STATEMENT_BALANCE_OF_RECORD = register(
    Query(
        name="statement_balance_of_record",
        sql="""
SELECT as_of, balance
FROM opening_balances
WHERE account_no = $account_no AND as_of <= $on_day
ORDER BY as_of DESC
LIMIT 1
""",
        params={"account_no": str, "on_day": dt.date},
        description="某日或之前最近的记账余额 / the latest balance of record on or before a day",
        optional={"opening_balances": arrow_schema(CONTRACTS["opening_balances"])},
    )
)

STATEMENT_MONTHS_LOADED = register(
    Query(
        name="statement_months_loaded",
        sql="""
SELECT month, count(*) AS txn_count
FROM transfers
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month
ORDER BY month
""",
        params={"from_month": Month, "to_month": Month},
        description="各月已入湖的交易笔数 / transfers loaded per month, to tell which periods the hub covers",
    )
)


@dataclass(frozen=True)
class AccountRow:
    account_no: str
    bank_code: str
    owner_type: str
    owner_id: str
    owner_name: str
    category: str
    currency: str


def account(engine: Engine, account_no: str) -> AccountRow | None:
    rows = engine.run("statement_account", account_no=account_no).to_pylist()
    return AccountRow(**rows[0]) if rows else None


def months_loaded(engine: Engine, from_month: str, to_month: str) -> set[str]:
    rows = engine.run("statement_months_loaded", from_month=from_month, to_month=to_month).to_pylist()
    return {str(r["month"]) for r in rows if r["txn_count"]}


@dataclass(frozen=True)
class LedgerColumns:
    """The ledger lines as Python columns; times as naive Asia/Shanghai wall-clock datetimes."""

    txn_id: list[str]
    local: list[dt.datetime]
    counterparty_account: list[str]
    counterparty_name: list[str | None]
    counterparty_category: list[str | None]
    amount: list[Decimal]
    channel: list[str | None]
    memo: list[str | None]


def ledger_columns(
    engine: Engine, account_no: str, from_ts: dt.datetime, to_ts: dt.datetime, from_month: str, to_month: str
) -> LedgerColumns:
    table = engine.run(
        "statement_ledger_lines",
        account_no=account_no,
        from_ts=from_ts,
        to_ts=to_ts,
        from_month=from_month,
        to_month=to_month,
    )
    # Shanghai wall clock in Arrow: converting 10,000 zone-aware values in Python costs three times as much.
    local = pc.local_timestamp(table.column("ts").cast(pa.timestamp("us", tz=SHANGHAI_ZONE)))
    return LedgerColumns(
        txn_id=table.column("txn_id").to_pylist(),
        local=local.to_pylist(),
        counterparty_account=table.column("counterparty_account").to_pylist(),
        counterparty_name=table.column("counterparty_name").to_pylist(),
        counterparty_category=table.column("counterparty_category").to_pylist(),
        amount=table.column("amount").to_pylist(),
        channel=table.column("channel").to_pylist(),
        memo=table.column("memo").to_pylist(),
    )


def balance_of_record(engine: Engine, account_no: str, on_day: dt.date) -> tuple[dt.date, Decimal] | None:
    rows = engine.run("statement_balance_of_record", account_no=account_no, on_day=on_day).to_pylist()
    return (rows[0]["as_of"], rows[0]["balance"]) if rows else None
