WITH f AS (
  SELECT
    SPLIT_PART(x, '|', 1) AS loan_id,
    SPLIT_PART(x, '|', 2) AS account,
    CAST(SPLIT_PART(x, '|', 3) AS BIGINT) AS traced,
    TIMESTAMP_MICROS(CAST(SPLIT_PART(x, '|', 4) AS BIGINT)) AS arrived,
    CAST(SPLIT_PART(x, '|', 5) AS INT) AS own,
    TIMESTAMP_MICROS(CAST(SPLIT_PART(x, '|', 6) AS BIGINT)) AS until
  FROM (
    SELECT
      EXPLODE(SPLIT(:frontier, CONCAT('\\Q', ',', '\\E'))) AS x
  ) AS u
), o AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
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
    AND t.ts <= f.until
), n AS (
  SELECT
    loan_id,
    src,
    MAX(own) AS own,
    COUNT(*) AS out_n,
    CAST(SUM(amt) AS BIGINT) AS out_total
  FROM o
  GROUP BY
    loan_id,
    src
), w AS (
  SELECT
    o.loan_id,
    o.src,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o
  JOIN n
    ON n.loan_id = o.loan_id AND n.src = o.src
  WHERE
    n.out_n < :hub_degree OR n.own = 1
), p AS (
  SELECT
    loan_id,
    src,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w
)
SELECT
  'edge' AS row_type,
  loan_id,
  src,
  dst,
  CAST(SUM(part) AS BIGINT) AS traced,
  MIN(ts) AS first_ts,
  MAX(ts) AS last_ts,
  COUNT(*) AS txn_count
FROM p
WHERE
  part > 0
GROUP BY
  loan_id,
  src,
  dst
UNION ALL
SELECT
  'hub',
  loan_id,
  src,
  NULL,
  CAST(0 AS BIGINT),
  NULL,
  NULL,
  out_n
FROM n
WHERE
  out_n >= :hub_degree AND own = 0
ORDER BY
  row_type NULLS LAST,
  loan_id NULLS LAST,
  src NULLS LAST,
  dst NULLS LAST
