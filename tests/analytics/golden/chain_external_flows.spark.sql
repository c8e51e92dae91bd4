/* Every transfer with a member of the chain on one side, classed by the other side: a member of the same */
/* chain ('chain'), a member of another chain only ('other_chain'), another enterprise registered in the */
/* region ('region'), anyone else ('outside': persons, banks, government, enterprises not registered here). */
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
), member_accounts AS (
  SELECT
    a.account_no,
    m.uscc,
    m.segment
  FROM accounts AS a
  JOIN effective_members AS m
    ON m.uscc = a.owner_id AND m.chain_code = :chain_code
  WHERE
    a.owner_type = 'enterprise'
), other_chain AS (
  SELECT DISTINCT
    uscc
  FROM chain_members
  WHERE
    chain_code <> :chain_code
), sides AS (
  SELECT
    t.month,
    'out' AS direction,
    m.segment,
    t.to_account AS other_account,
    t.amount
  FROM transfers AS t
  JOIN member_accounts AS m
    ON m.account_no = t.from_account
  WHERE
    t.month BETWEEN :from_month AND :to_month
  UNION ALL
  SELECT
    t.month,
    'in' AS direction,
    m.segment,
    t.from_account AS other_account,
    t.amount
  FROM transfers AS t
  JOIN member_accounts AS m
    ON m.account_no = t.to_account
  WHERE
    t.month BETWEEN :from_month AND :to_month
), region AS (
  SELECT DISTINCT
    uscc
  FROM enterprises
), classified AS (
  SELECT
    s.month,
    s.segment,
    s.direction,
    s.amount,
    CASE
      WHEN NOT mc.account_no IS NULL
      THEN 'chain'
      WHEN o.owner_type = 'enterprise' AND NOT oc.uscc IS NULL
      THEN 'other_chain'
      WHEN o.owner_type = 'enterprise' AND NOT re.uscc IS NULL
      THEN 'region'
      ELSE 'outside'
    END AS counterparty
  FROM sides AS s
  LEFT JOIN member_accounts AS mc
    ON mc.account_no = s.other_account
  LEFT JOIN accounts AS o
    ON o.account_no = s.other_account
  LEFT JOIN other_chain AS oc
    ON oc.uscc = o.owner_id
  LEFT JOIN region AS re
    ON re.uscc = o.owner_id
)
SELECT
  month,
  segment,
  direction,
  counterparty,
  COUNT(*) AS txn_count,
  CAST(SUM(amount) AS DECIMAL(38, 2)) AS total_amount
FROM classified
GROUP BY
  month,
  segment,
  direction,
  counterparty
ORDER BY
  month NULLS LAST,
  segment NULLS LAST,
  direction NULLS LAST,
  counterparty NULLS LAST
