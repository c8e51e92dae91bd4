/* Money between the segments of one industrial chain: a transfer counts when the owners of both accounts */
/* (owner_id = the enterprise's USCC) are members of the chain. Flows inside a segment are included. */
/* Segments are the effective ones: $segment_overrides over the dataset's (the CTEs are */
/* jinyu.chain.queries.EFFECTIVE_MEMBERS word for word; tests/chain/test_effective_segments.py checks it). */
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
)
SELECT
  t.month,
  payer.segment AS from_segment,
  payee.segment AS to_segment,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN accounts AS fa
  ON fa.account_no = t.from_account
JOIN effective_members AS payer
  ON payer.uscc = fa.owner_id AND payer.chain_code = :chain_code
JOIN accounts AS ta
  ON ta.account_no = t.to_account
JOIN effective_members AS payee
  ON payee.uscc = ta.owner_id AND payee.chain_code = :chain_code
WHERE
  t.month BETWEEN :from_month AND :to_month
GROUP BY
  t.month,
  payer.segment,
  payee.segment
ORDER BY
  t.month NULLS LAST,
  from_segment NULLS LAST,
  to_segment NULLS LAST
