WITH pr AS (
  SELECT
    SPLIT_PART(x, '|', 1) AS a,
    SPLIT_PART(x, '|', 2) AS b
  FROM (
    SELECT
      EXPLODE(SPLIT(:pairs, CONCAT('\\Q', ',', '\\E'))) AS x
  ) AS u
)
SELECT
  t.txn_id,
  t.ts,
  t.from_account,
  t.to_account,
  CAST(t.amount * 100 AS BIGINT) AS amount_fen,
  t.channel,
  t.memo
FROM transfers AS t
JOIN pr
  ON t.from_account = pr.a AND t.to_account = pr.b
WHERE
  t.month >= :from_month
  AND t.month <= :to_month
  AND t.ts >= :from_ts
  AND t.ts <= :to_ts
ORDER BY
  t.ts NULLS LAST,
  t.txn_id NULLS LAST
