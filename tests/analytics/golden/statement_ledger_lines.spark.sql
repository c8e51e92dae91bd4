/* One account's ledger lines in [$from_ts, $to_ts), signed from its side: money out negative, in positive. */
WITH lines AS (
  SELECT
    txn_id,
    ts,
    to_account AS counterparty_account,
    CAST(-amount AS DECIMAL(18, 2)) AS amount,
    channel,
    memo
  FROM transfers
  WHERE
    from_account = :account_no
    AND month BETWEEN :from_month AND :to_month
    AND ts >= :from_ts
    AND ts < :to_ts
  UNION ALL
  SELECT
    txn_id,
    ts,
    from_account AS counterparty_account,
    CAST(amount AS DECIMAL(18, 2)) AS amount,
    channel,
    memo
  FROM transfers_by_counterparty
  WHERE
    to_account = :account_no
    AND month BETWEEN :from_month AND :to_month
    AND ts >= :from_ts
    AND ts < :to_ts
)
SELECT
  l.txn_id,
  l.ts,
  l.counterparty_account,
  a.owner_name AS counterparty_name,
  a.category AS counterparty_category,
  l.amount,
  l.channel,
  l.memo
FROM lines AS l
LEFT JOIN accounts AS a
  ON a.account_no = l.counterparty_account
ORDER BY
  l.ts NULLS LAST,
  l.txn_id NULLS LAST,
  l.amount NULLS LAST
