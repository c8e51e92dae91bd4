"""Named analytics query of the financing domain: the indicator table over the lake dataset `financing_orders`
(complete snapshots of the work orders, appended by `jinyu financing export-lake`), the same definitions as the live
indicators of `service.indicators` (docs/financing.md), for a year of a region's orders at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinyu.analytics import Engine, Query, register

# Every export is a complete snapshot of all orders and the lake never rewrites, so one snapshot (`$snapshot`, its
# `exported_at`; normally the latest, from `financing_latest_snapshot`) is counted: a plain filter the engines
# push into the Parquet scan (one file per export), no per-order deduplication. Measured on 300k orders:
# 0.083 s with the bound snapshot against 0.148 s with a `max(exported_at)` subquery in the same statement.
# Overdue: contact is late when (contacted, else decided, else closed, else as_of) is after contact_due; the
# decision is late when (decided, else closed, else as_of) is after decision_due — rules.order_overdue.
INDICATORS_SQL = """
WITH snapshot AS (
    SELECT *
    FROM financing_orders
    WHERE exported_at = $snapshot
      AND ($bank = '' OR bank_id = $bank) AND ($month = '' OR month = $month)
), latest AS (
    SELECT
        CASE $group_by
            WHEN 'bank' THEN bank_id WHEN 'branch' THEN branch_id WHEN 'outlet' THEN outlet_id
            WHEN 'manager' THEN manager_id WHEN 'district' THEN district_code
            WHEN 'industry' THEN industry_code WHEN 'chain' THEN chain_code ELSE month
        END AS group_key,
        *
    FROM snapshot
)
SELECT
    group_key,
    count(*) AS orders,
    count(contacted_on) AS contacted,
    CAST(coalesce(sum(contact_working_days), 0) AS BIGINT) AS contact_days,
    count(accepted_on) AS accepted,
    count(decided_on) AS decided,
    count(amount_approved) AS approved,
    CAST(sum(amount_requested) AS DECIMAL(38, 2)) AS amount_requested,
    CAST(coalesce(sum(amount_approved), 0) AS DECIMAL(38, 2)) AS amount_approved,
    CAST(coalesce(sum(decision_working_days), 0) AS BIGINT) AS decision_days,
    count(decision_working_days) AS decision_count,
    CAST(sum(
        CASE WHEN coalesce(contacted_on, decided_on, closed_on, $as_of) > contact_due
               OR coalesce(decided_on, closed_on, $as_of) > decision_due
             THEN 1 ELSE 0 END
    ) AS BIGINT) AS overdue
FROM latest
GROUP BY group_key
ORDER BY overdue DESC, group_key
"""

FINANCING_INDICATORS = register(
    Query(
        name="financing_indicators",
        sql=INDICATORS_SQL,
        params={"group_by": str, "as_of": dt.date, "bank": str, "month": str, "snapshot": dt.datetime},
        description="融资工单指标 / work-order indicators per bank, branch, outlet, manager, district, industry, "
        "chain or month ('' = all banks / months), overdue judged on as_of",
    )
)

LATEST_SNAPSHOT = register(
    Query(
        name="financing_latest_snapshot",
        sql="SELECT max(exported_at) AS exported_at, count(*) AS snapshot_rows FROM financing_orders",
        params={},
        description="最近一次工单快照的导出时间 / when the latest work-order snapshot was exported",
    )
)

GROUPINGS = ("bank", "branch", "outlet", "manager", "district", "industry", "chain", "month")


def latest_snapshot(engine: Engine) -> dt.datetime | None:
    value = engine.run("financing_latest_snapshot").to_pylist()[0]["exported_at"]
    return value if isinstance(value, dt.datetime) else None


def indicator_sums(
    engine: Engine,
    group_by: str,
    as_of: dt.date,
    bank: str = "",
    month: str = "",
    snapshot: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Per group the counts and sums `service.indicators.row_of` turns into rates (same keys as the live
    query: `key`, `requested_fen`, `approved_fen` …), over `snapshot` (default: the latest export)."""
    snapshot = snapshot or latest_snapshot(engine)
    if snapshot is None:
        return []
    params = {"group_by": group_by, "as_of": as_of, "bank": bank, "month": month, "snapshot": snapshot}
    table = engine.run("financing_indicators", **params)
    rows = []
    for r in table.to_pylist():
        r["key"] = r.pop("group_key")
        r["requested_fen"] = int(r.pop("amount_requested") * 100)
        r["approved_fen"] = int(r.pop("amount_approved") * 100)
        rows.append(r)
    return rows
