"""SQL of the refund rule's one statement (registered in `queries.py` as `tracing_pair_transfers`).

The transfers between given account pairs in one direction each, in a time range: the refund rule
(`refunds.py`) needs the purchases payer → payee and the reversals payee → payer of every returned edge
whose payer paid the payee on the previous hop. `$pairs` is "from|to" entries joined by ","; both directions
of a pair are listed by the caller. Reads `transfers` (sorted by from_account, ts), months pruned.
"""

PAIR_TRANSFERS = """
WITH pr AS (
    SELECT split_part(x, '|', 1) AS a, split_part(x, '|', 2) AS b
    FROM (SELECT unnest(string_split($pairs, ',')) AS x) AS u
)
SELECT t.txn_id, t.ts, t.from_account, t.to_account, CAST(t.amount * 100 AS BIGINT) AS amount_fen,
       t.channel, t.memo
FROM transfers AS t
JOIN pr ON t.from_account = pr.a AND t.to_account = pr.b
WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts >= $from_ts AND t.ts <= $to_ts
ORDER BY t.ts, t.txn_id
"""
