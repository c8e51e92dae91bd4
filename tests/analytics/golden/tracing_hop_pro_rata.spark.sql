WITH f AS (
  SELECT
    SPLIT_PART(x, '|', 1) AS account,
    TIMESTAMP_MICROS(CAST(SPLIT_PART(x, '|', 2) AS BIGINT)) AS arrived,
    CAST(SPLIT_PART(x, '|', 3) AS INT) AS own
  FROM (
    SELECT
      EXPLODE(SPLIT(:frontier, CONCAT('\\Q', ',', '\\E'))) AS x
  ) AS u
), o AS (
  SELECT
    f.account AS src,
    f.own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= :until
), n AS (
  SELECT
    src,
    COUNT(*) AS out_n
  FROM o
  GROUP BY
    src
)
SELECT
  'out' AS row_type,
  o.src,
  o.txn_id,
  o.ts,
  o.dst,
  o.amt,
  n.out_n
FROM o
JOIN n
  ON n.src = o.src
WHERE
  n.out_n < :hub_degree OR o.own = 1
UNION ALL
SELECT
  'count',
  src,
  NULL,
  NULL,
  NULL,
  NULL,
  out_n
FROM n
UNION ALL
SELECT
  'in',
  f.account,
  NULL,
  NULL,
  NULL,
  CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT),
  NULL
FROM f
JOIN transfers_by_counterparty AS t
  ON t.to_account = f.account
WHERE
  t.month >= :from_month
  AND t.month <= :to_month
  AND t.ts >= f.arrived
  AND t.ts <= :until
GROUP BY
  f.account
ORDER BY
  row_type NULLS LAST,
  src NULLS LAST,
  ts NULLS LAST,
  txn_id NULLS LAST
