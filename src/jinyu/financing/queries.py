"""Named analytics query of the financing domain: the indicator table over the lake dataset `financing_orders`
(complete snapshots of the work orders, appended by `jinyu financing export-lake`), the same definitions as the live
indicators of `service.indicators` (docs/financing.md), for a year of a region's orders at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinyu.analytics import Engine, Query, register

# Every export is a complete snapshot of all orders and the lake never rewrites, so the latest snapshot (the
# rows with the greatest `exported_at`) is the one counted: a plain filter, no per-order deduplication.
# Overdue: contact is late when (contacted, else decided, else closed, else as_of) is after contact_due; the
# decision is late when (decided, else closed, else as_of) is after decision_due — rules.order_overdue.
INDICATORS_SQL = """
WITH snapshot AS (
    SELECT *
    FROM financing_orders
    WHERE exported_at = (SELECT max(exported_at) FROM financing_orders)
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
        params={"group_by": str, "as_of": dt.date, "bank": str, "month": str},
        description="融资工单指标 / work-order indicators per bank, branch, outlet, manager, district, industry, "
        "chain or month ('' = all banks / months), overdue judged on as_of",
    )
)

GROUPINGS = ("bank", "branch", "outlet", "manager", "district", "industry", "chain", "month")


def indicator_sums(
    engine: Engine, group_by: str, as_of: dt.date, bank: str = "", month: str = ""
) -> list[dict[str, Any]]:
    """Per group the counts and sums `service.indicators.row_of` turns into rates (same keys as the live
    query: `key`, `requested_fen`, `approved_fen` …)."""
    table = engine.run("financing_indicators", group_by=group_by, as_of=as_of, bank=bank, month=month)
    rows = []
    for r in table.to_pylist():
        r["key"] = r.pop("group_key")
        r["requested_fen"] = int(r.pop("amount_requested") * 100)
        r["approved_fen"] = int(r.pop("amount_approved") * 100)
        rows.append(r)
    return rows
