/* `chain_member_links` and `chain_segment_flows` of one window in one statement (`part` 'links' / 'flows'), */
/* so the chain page's first request scans the window's transfers and builds the member accounts once, not */
/* twice (jinyu.chain.reads.links_and_flows splits it; tests/chain/test_reads.py compares each part with the */
/* query of its own, run directly). `touching`: transfers with an account of a member on either side (any owner */
/* type, as the flows join accounts), a superset of both queries' transfers. Links: both sides registered */
/* enterprises' accounts (`ent_accounts`, as chain_member_links), different owners; one side is a member's */
/* account because the transfer touches one. Flows: both sides members' accounts, by effective segment. */
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
), member_any AS (
  SELECT
    a.account_no,
    m.segment
  FROM accounts AS a
  JOIN effective_members AS m
    ON m.uscc = a.owner_id AND m.chain_code = :chain_code
), ent_accounts AS (
  /* Registered enterprises only: government bodies' collection accounts are also owner_type enterprise. */
  SELECT
    account_no,
    owner_id AS uscc
  FROM accounts
  WHERE
    owner_type = 'enterprise'
    AND owner_id IN (
      SELECT
        uscc
      FROM enterprises
    )
), touching AS (
  SELECT
    t.month,
    t.from_account,
    t.to_account,
    t.amount
  FROM transfers AS t
  WHERE
    t.month BETWEEN :from_month AND :to_month
    AND (
      t.from_account IN (
        SELECT
          account_no
        FROM member_any
      )
      OR t.to_account IN (
        SELECT
          account_no
        FROM member_any
      )
    )
)
SELECT
  'links' AS part,
  t.month,
  fa.uscc AS from_party,
  ta.uscc AS to_party,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM touching AS t
JOIN ent_accounts AS fa
  ON fa.account_no = t.from_account
JOIN ent_accounts AS ta
  ON ta.account_no = t.to_account
WHERE
  fa.uscc <> ta.uscc
GROUP BY
  1,
  2,
  3,
  4
UNION ALL
SELECT
  'flows' AS part,
  t.month,
  p.segment AS from_party,
  q.segment AS to_party,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM touching AS t
JOIN member_any AS p
  ON p.account_no = t.from_account
JOIN member_any AS q
  ON q.account_no = t.to_account
GROUP BY
  1,
  2,
  3,
  4
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST,
  4 NULLS LAST
