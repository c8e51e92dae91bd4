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
), obr AS (
  SELECT
    f.loan_id,
    f.account,
    f.arrived,
    b.as_of,
    CAST(b.balance * 100 AS BIGINT) AS bal,
    CAST(b.as_of AS TIMESTAMP_NTZ) - INTERVAL '8' HOUR AS since,
    ROW_NUMBER() OVER (PARTITION BY f.loan_id, f.account ORDER BY b.as_of DESC) AS rn
  FROM f
  JOIN opening_balances AS b
    ON b.account_no = f.account
  WHERE
    CAST(b.as_of AS TIMESTAMP_NTZ) - INTERVAL '8' HOUR <= f.arrived
), ob AS (
  SELECT
    loan_id,
    account,
    arrived,
    since,
    bal
  FROM obr
  WHERE
    rn = 1
), bo AS (
  SELECT
    ob.loan_id,
    ob.account,
    CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS paid
  FROM ob
  JOIN transfers AS t
    ON t.from_account = ob.account
  WHERE
    t.month <= :to_month AND t.ts >= ob.since AND t.ts < ob.arrived
  GROUP BY
    ob.loan_id,
    ob.account
), bi AS (
  SELECT
    ob.loan_id,
    ob.account,
    CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS got
  FROM ob
  JOIN transfers_by_counterparty AS t
    ON t.to_account = ob.account
  WHERE
    t.month <= :to_month AND t.ts >= ob.since AND t.ts < ob.arrived
  GROUP BY
    ob.loan_id,
    ob.account
), h AS (
  SELECT
    ob.loan_id,
    ob.account,
    GREATEST(CAST(0 AS BIGINT), ob.bal + COALESCE(bi.got, 0) - COALESCE(bo.paid, 0)) AS held
  FROM ob
  LEFT JOIN bo
    ON bo.loan_id = ob.loan_id AND bo.account = ob.account
  LEFT JOIN bi
    ON bi.loan_id = ob.loan_id AND bi.account = ob.account
), i AS (
  SELECT
    f.loan_id,
    f.account,
    CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS in_total
  FROM f
  JOIN transfers_by_counterparty AS t
    ON t.to_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts >= f.arrived
    AND t.ts <= f.until
  GROUP BY
    f.loan_id,
    f.account
), q AS (
  SELECT
    o.loan_id,
    o.src,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    GREATEST(o.traced, COALESCE(h.held, 0) + COALESCE(i.in_total, 0), n.out_total) AS pool
  FROM o
  JOIN n
    ON n.loan_id = o.loan_id AND n.src = o.src
  LEFT JOIN i
    ON i.loan_id = o.loan_id AND i.account = o.src
  LEFT JOIN h
    ON h.loan_id = o.loan_id AND h.account = o.src
  WHERE
    n.out_n < :hub_degree OR n.own = 1
), q0 AS (
  SELECT
    loan_id,
    src,
    dst,
    ts,
    amt,
    traced,
    pool,
    CAST(FLOOR(CAST(amt AS DOUBLE) * CAST(traced AS DOUBLE) / CAST(pool AS DOUBLE)) AS BIGINT) AS est
  FROM q
), p AS (
  SELECT
    loan_id,
    src,
    dst,
    ts,
    est + CASE
      WHEN CAST(amt AS DECIMAL(38, 0)) * CAST(traced AS DECIMAL(38, 0)) - CAST(est AS DECIMAL(38, 0)) * CAST(pool AS DECIMAL(38, 0)) < 0
      THEN -1
      WHEN CAST(amt AS DECIMAL(38, 0)) * CAST(traced AS DECIMAL(38, 0)) - CAST(est AS DECIMAL(38, 0)) * CAST(pool AS DECIMAL(38, 0)) >= pool
      THEN 1
      ELSE 0
    END AS part
  FROM q0
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
