/* chain_segment_flows read from the member-pair sums (the latest build of each month): the same rows when */
/* every month of the window is current (jinyu.chain.pairs.flows_query decides). */
WITH segment_overrides AS (
  SELECT
    SPLIT_PART(o, ':', 1) AS chain_code,
    SPLIT_PART(o, ':', 2) AS uscc,
    SPLIT_PART(o, ':', 3) AS segment
  FROM (
    SELECT
      EXPLODE(SPLIT(:segment_overrides, CONCAT('\\Q', ';', '\\E'))) AS o
  ) AS listed
  WHERE
    o <> ''
), effective_members AS (
  SELECT
    m.chain_code,
    m.chain_name,
    m.uscc,
    COALESCE(o.segment, m.segment) AS segment,
    m.segment AS dataset_segment,
    m.is_core
  FROM chain_members AS m
  LEFT JOIN segment_overrides AS o
    ON o.chain_code = m.chain_code AND o.uscc = m.uscc
), members AS (
  SELECT
    uscc,
    segment
  FROM effective_members
  WHERE
    chain_code = :chain_code
), latest AS (
  /* From the marker rows (one per build): the latest build of each month, without aggregating every pair. */
  SELECT
    month,
    MAX(built_at) AS built_at
  FROM chain_member_pairs
  WHERE
    month BETWEEN :from_month AND :to_month AND payer IS NULL
  GROUP BY
    month
)
SELECT
  l.month,
  payer.segment AS from_segment,
  payee.segment AS to_segment,
  CAST(SUM(l.txn_count) AS BIGINT) AS txn_count,
  CAST(SUM(l.total_amount) AS DECIMAL(38, 2)) AS total_amount
FROM chain_member_pairs AS l
JOIN latest AS b
  ON b.month = l.month AND b.built_at = l.built_at
JOIN members AS payer
  ON payer.uscc = l.payer
JOIN members AS payee
  ON payee.uscc = l.payee
WHERE
  l.month BETWEEN :from_month AND :to_month
GROUP BY
  l.month,
  payer.segment,
  payee.segment
ORDER BY
  l.month NULLS LAST,
  from_segment NULLS LAST,
  to_segment NULLS LAST
