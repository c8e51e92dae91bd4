"""SQL of pro rata's `balance` pool (the `tracing_hop_pro_rata_balance` statement, composed in `queries.py`).

Today's pool is max(T, inflow since arrival, outflow). The balance pool adds what was already in the account
when the traced money arrived: the latest balance of record (`opening_balances`, `as_of` 00:00 Asia/Shanghai)
at or before the arrival, plus receipts and minus payments from then until the arrival, never below 0
(`tracer.Ledger.held` is the same in Python). A lake without `opening_balances` reads it as empty: the pool is
then today's.
"""

# Per frontier node: its balance of record just before the traced money arrived. The transfers since as_of are
# read from the account's own rows (files sorted by account: row groups skipped by their statistics).
HELD = """
obr AS (
    SELECT f.loan_id, f.account, f.arrived, b.as_of, CAST(b.balance * 100 AS BIGINT) AS bal,
           CAST(b.as_of AS TIMESTAMP) - INTERVAL 8 HOUR AS since,
           ROW_NUMBER() OVER (PARTITION BY f.loan_id, f.account ORDER BY b.as_of DESC) AS rn
    FROM f
    JOIN opening_balances AS b ON b.account_no = f.account
    WHERE CAST(b.as_of AS TIMESTAMP) - INTERVAL 8 HOUR <= f.arrived
),
ob AS (
    SELECT loan_id, account, arrived, since, bal FROM obr WHERE rn = 1
),
bo AS (
    SELECT ob.loan_id, ob.account, CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS paid
    FROM ob
    JOIN transfers AS t ON t.from_account = ob.account
    WHERE t.month <= $to_month AND t.ts >= ob.since AND t.ts < ob.arrived
    GROUP BY ob.loan_id, ob.account
),
bi AS (
    SELECT ob.loan_id, ob.account, CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS got
    FROM ob
    JOIN transfers_by_counterparty AS t ON t.to_account = ob.account
    WHERE t.month <= $to_month AND t.ts >= ob.since AND t.ts < ob.arrived
    GROUP BY ob.loan_id, ob.account
),
h AS (
    SELECT ob.loan_id, ob.account,
           GREATEST(CAST(0 AS BIGINT), ob.bal + COALESCE(bi.got, 0) - COALESCE(bo.paid, 0)) AS held
    FROM ob
    LEFT JOIN bo ON bo.loan_id = ob.loan_id AND bo.account = ob.account
    LEFT JOIN bi ON bi.loan_id = ob.loan_id AND bi.account = ob.account
)"""
