"""Tiny Arrow tables in the shapes of the lake's datasets, and how each is laid out in the lake.

The layouts repeat what the dataset contracts say (partition column, sort order); callers of the lake pass
them in the same way, since `jinyu.analytics` does not read the contracts itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jinyu.analytics import Lake

S, DEC, DATE, TS = pa.string(), pa.decimal128(18, 2), pa.date32(), pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "banks": pa.schema(
        [("org_code", S), ("name", S), ("level", S), ("parent_code", S), ("district_code", S), ("uscc", S)]
    ),
    "accounts": pa.schema(
        [
            ("account_no", S), ("bank_code", S), ("owner_type", S), ("owner_id", S), ("owner_name", S),
            ("category", S), ("opened_on", DATE), ("currency", S),
        ]
    ),
    "transfers": pa.schema(
        [
            ("txn_id", S), ("ts", TS), ("from_account", S), ("to_account", S), ("amount", DEC),
            ("currency", S), ("channel", S), ("memo", S),
        ]
    ),
    "chain_members": pa.schema(
        [("chain_code", S), ("chain_name", S), ("segment", S), ("uscc", S), ("is_core", pa.bool_())]
    ),
    "tax_monthly": pa.schema([("uscc", S), ("period", S), ("sales_declared", DEC), ("tax_paid", DEC)]),
    "headcount_monthly": pa.schema(
        [
            ("uscc", S), ("period", S), ("social_insurance_count", pa.int64()),
            ("provident_fund_count", pa.int64()), ("provident_fund_amount", DEC),
        ]
    ),
    "patents": pa.schema(
        [("patent_no", S), ("uscc", S), ("kind", S), ("title", S), ("filed_on", DATE), ("granted_on", DATE)]
    ),
    "judicial": pa.schema(
        [
            ("case_no", S), ("uscc", S), ("role", S), ("case_type", S), ("filed_on", DATE), ("amount", DEC),
            ("status", S),
        ]
    ),
}  # fmt: skip

# dataset -> (partition_by, sort_by), as in jinyu.governance.contracts
LAYOUTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "banks": (None, ()),
    "accounts": (None, ("account_no",)),
    "transfers": ("ts", ("from_account", "ts")),
    "chain_members": (None, ()),
    "tax_monthly": ("period", ("uscc", "period")),
    "headcount_monthly": ("period", ("uscc", "period")),
    "patents": (None, ()),
    "judicial": (None, ()),
}
TRANSFER_MIRRORS = {"transfers_by_counterparty": ("to_account", "ts")}


def table(dataset: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows as dicts; columns left out are null. Strings in date, time and money columns are parsed."""
    schema = SCHEMAS[dataset]
    columns = {f.name: [_value(f.type, row.get(f.name)) for row in rows] for f in schema}
    return pa.table(columns, schema=schema)


def _value(kind: pa.DataType, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if kind == DEC:
        return Decimal(value)
    if kind == DATE:
        return date.fromisoformat(value)
    if kind == TS:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def load(lake: Lake, dataset: str, rows: Sequence[dict[str, Any]], load_id: str = "L1") -> None:
    partition_by, sort_by = LAYOUTS[dataset]
    mirrors = TRANSFER_MIRRORS if dataset == "transfers" else {}
    lake.append(
        dataset, table(dataset, rows), load_id, partition_by=partition_by, sort_by=sort_by, mirrors=mirrors
    )
