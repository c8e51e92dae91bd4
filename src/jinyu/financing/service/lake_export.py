"""Export work orders to the lake dataset `financing_orders` (snapshots, append-only), for the indicator
query over a whole region (`queries.financing_indicators`, DuckDB or Spark)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.financing.models import WorkOrder

DATASET = "financing_orders"
MONEY = pa.decimal128(18, 2)
SCHEMA = pa.schema(
    [
        ("order_id", pa.string()), ("bank_id", pa.string()), ("branch_id", pa.string()),
        ("outlet_id", pa.string()), ("manager_id", pa.string()), ("district_code", pa.string()),
        ("industry_code", pa.string()), ("chain_code", pa.string()), ("state", pa.string()),
        ("amount_requested", MONEY), ("amount_approved", MONEY), ("dispatched_on", pa.date32()),
        ("contact_due", pa.date32()), ("decision_due", pa.date32()), ("accepted_on", pa.date32()),
        ("contacted_on", pa.date32()), ("decided_on", pa.date32()), ("closed_on", pa.date32()),
        ("contact_working_days", pa.int32()), ("decision_working_days", pa.int32()),
        ("exported_at", pa.timestamp("us", tz="UTC")),
    ]
)  # fmt: skip
COLUMNS = [f.name for f in SCHEMA if f.name != "exported_at"]


def orders_table(rows: Iterable[dict[str, object]], exported_at: dt.datetime) -> pa.Table:
    """Rows keyed by SCHEMA's names (without `exported_at`) as one Arrow table."""
    listed = list(rows)
    data = {c: [r.get(c) for r in listed] for c in COLUMNS}
    data["exported_at"] = [exported_at] * len(listed)
    return pa.Table.from_pydict(data, schema=SCHEMA)


def _row(order: WorkOrder) -> dict[str, object]:
    row: dict[str, object] = {c: getattr(order, c, None) for c in COLUMNS if c != "order_id"}
    row["order_id"] = order.id
    for money in ("amount_requested", "amount_approved"):
        value = row[money]
        row[money] = Decimal(value) if isinstance(value, Decimal) else None
    return row


def export_orders(session: Session, principal: Principal, lake: Lake, load_id: str) -> int:
    """Append a snapshot of every order to the lake under `load_id` (a retried id is refused, not doubled)."""
    principal.require(Perm.FINANCING_MANAGE)
    now = utcnow()
    orders = session.scalars(select(WorkOrder).order_by(WorkOrder.bank_id, WorkOrder.id))
    table = orders_table((_row(o) for o in orders), now)
    if table.num_rows:
        lake.append(DATASET, table, load_id, partition_by="dispatched_on", sort_by=["bank_id", "outlet_id"])
    audit.record(
        session, principal, action="financing.lake.export", subject_type="dataset", subject_ids=[DATASET],
        detail={"load_id": load_id, "rows": table.num_rows},
    )  # fmt: skip
    return int(table.num_rows)
