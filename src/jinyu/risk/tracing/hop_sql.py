"""SQL of one hop of the trace (the `tracing_hop_<policy>` statements, registered in `queries.py`).

A frontier of (loan, account, traced amount, arrival, own flag, window end) is followed one step: each account's
payments after the traced money arrived, allocated to the traced amount by FIFO or pro rata (today's pool, or the
balance pool of `pool_sql.py`), with hubs (too many payees, not the borrower's own) reported instead of followed.
Money is in fen (BIGINT); pro rata's share is floor(amount * traced / pool), exact.
"""

from __future__ import annotations

from jinyu.risk.tracing.pool_sql import HELD as _HELD


# floor(a * b / d) for BIGINT a, b, d with 0 <= b <= d: a double estimate (off by at most one, since the
# quotient is at most a < 2^53) corrected with the exact remainder in DECIMAL(38,0).
def _remainder(a: str, b: str, q: str, d: str) -> str:
    return (
        f"CAST({a} AS DECIMAL(38, 0)) * CAST({b} AS DECIMAL(38, 0)) "
        f"- CAST({q} AS DECIMAL(38, 0)) * CAST({d} AS DECIMAL(38, 0))"
    )


# The frontier: "loan|account|traced fen|arrived µs|own 0/1|window end µs" entries joined by ",".
_FRONTIER = """
f AS (
    SELECT split_part(x, '|', 1) AS loan_id,
           split_part(x, '|', 2) AS account,
           CAST(split_part(x, '|', 3) AS BIGINT) AS traced,
           make_timestamp(CAST(split_part(x, '|', 4) AS BIGINT)) AS arrived,
           CAST(split_part(x, '|', 5) AS INTEGER) AS own,
           make_timestamp(CAST(split_part(x, '|', 6) AS BIGINT)) AS until
    FROM (SELECT unnest(string_split($frontier, ',')) AS x) AS u
)"""

_OUTGOING = """
o AS (
    SELECT f.loan_id, f.account AS src, f.traced, f.own, t.txn_id, t.ts, t.to_account AS dst,
           CAST(t.amount * 100 AS BIGINT) AS amt
    FROM f
    JOIN transfers AS t ON t.from_account = f.account
    WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts > f.arrived AND t.ts <= f.until
),
n AS (
    SELECT loan_id, src, MAX(own) AS own, COUNT(*) AS out_n, CAST(SUM(amt) AS BIGINT) AS out_total
    FROM o
    GROUP BY loan_id, src
)"""

_PRO_RATA = f"""
i AS (
    SELECT f.loan_id, f.account, CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS in_total
    FROM f
    JOIN transfers_by_counterparty AS t ON t.to_account = f.account
    WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts >= f.arrived AND t.ts <= f.until
    GROUP BY f.loan_id, f.account
),
q AS (
    SELECT o.loan_id, o.src, o.dst, o.ts, o.amt, o.traced,
           GREATEST(o.traced, COALESCE(i.in_total, 0), n.out_total) AS pool
    FROM o
    JOIN n ON n.loan_id = o.loan_id AND n.src = o.src
    LEFT JOIN i ON i.loan_id = o.loan_id AND i.account = o.src
    WHERE n.out_n < $hub_degree OR n.own = 1
),
q0 AS (
    SELECT loan_id, src, dst, ts, amt, traced, pool,
           CAST(FLOOR(CAST(amt AS DOUBLE) * CAST(traced AS DOUBLE) / CAST(pool AS DOUBLE)) AS BIGINT) AS est
    FROM q
),
p AS (
    SELECT loan_id, src, dst, ts,
           est + CASE
               WHEN {_remainder("amt", "traced", "est", "pool")} < 0 THEN -1
               WHEN {_remainder("amt", "traced", "est", "pool")} >= pool THEN 1
               ELSE 0
           END AS part
    FROM q0
)"""

_FIFO = """
w AS (
    SELECT o.loan_id, o.src, o.dst, o.ts, o.amt, o.traced,
           COALESCE(SUM(o.amt) OVER (
               PARTITION BY o.loan_id, o.src ORDER BY o.ts, o.txn_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS before
    FROM o
    JOIN n ON n.loan_id = o.loan_id AND n.src = o.src
    WHERE n.out_n < $hub_degree OR n.own = 1
),
p AS (
    SELECT loan_id, src, dst, ts, GREATEST(0, LEAST(amt, traced - before)) AS part
    FROM w
)"""


# Pro rata's balance pool: the node's money held before the arrival joins the pool (pool_sql.HELD).
_PRO_RATA_BALANCE = _PRO_RATA.replace(
    """GREATEST(o.traced, COALESCE(i.in_total, 0), n.out_total) AS pool""",
    """GREATEST(o.traced, COALESCE(h.held, 0) + COALESCE(i.in_total, 0), n.out_total) AS pool""",
).replace(
    """    LEFT JOIN i ON i.loan_id = o.loan_id AND i.account = o.src
""",
    """    LEFT JOIN i ON i.loan_id = o.loan_id AND i.account = o.src
    LEFT JOIN h ON h.loan_id = o.loan_id AND h.account = o.src
""",
)


def hop_sql(policy: str) -> str:
    allocation = {"pro_rata": _PRO_RATA, "fifo": _FIFO}.get(policy)
    if policy == "pro_rata_balance":
        allocation = f"{_HELD.strip()},\n{_PRO_RATA_BALANCE.strip()}"
    assert allocation is not None, policy
    return f"""
WITH {_FRONTIER.strip()},
{_OUTGOING.strip()},
{allocation.strip()}
SELECT 'edge' AS row_type, loan_id, src, dst, CAST(SUM(part) AS BIGINT) AS traced, MIN(ts) AS first_ts,
       MAX(ts) AS last_ts, COUNT(*) AS txn_count
FROM p
WHERE part > 0
GROUP BY loan_id, src, dst
UNION ALL
SELECT 'hub', loan_id, src, NULL, CAST(0 AS BIGINT), NULL, NULL, out_n
FROM n
WHERE out_n >= $hub_degree AND own = 0
ORDER BY row_type, loan_id, src, dst
"""
