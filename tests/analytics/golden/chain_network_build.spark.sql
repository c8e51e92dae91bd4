/* Every chain's supply-network edges as of $as_of_month: the same edges as `chain_member_links` (payments */
/* between registered enterprises, one side a member of the chain), weighted by decay^(months before as_of). */
WITH members AS (
  SELECT DISTINCT
    chain_code,
    uscc
  FROM chain_members
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
), monthly AS (
  SELECT
    t.month,
    fa.uscc AS payer,
    ta.uscc AS payee,
    CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
  FROM transfers AS t
  JOIN ent_accounts AS fa
    ON fa.account_no = t.from_account
  JOIN ent_accounts AS ta
    ON ta.account_no = t.to_account
  WHERE
    t.month BETWEEN :from_month AND :as_of_month AND fa.uscc <> ta.uscc
  GROUP BY
    1,
    2,
    3
), touching AS (
  /* UNION, not UNION ALL: a payment between two members of one chain is one edge of it. */
  SELECT
    m.chain_code,
    l.month,
    l.payer,
    l.payee,
    l.total_amount
  FROM monthly AS l
  JOIN members AS m
    ON m.uscc = l.payer
  UNION
  SELECT
    m.chain_code,
    l.month,
    l.payer,
    l.payee,
    l.total_amount
  FROM monthly AS l
  JOIN members AS m
    ON m.uscc = l.payee
), aged AS (
  SELECT
    l.chain_code,
    l.payer,
    l.payee,
    l.total_amount,
    (
      CAST(SUBSTRING(:as_of_month, 1, 4) AS INT) * 12 + CAST(SUBSTRING(:as_of_month, 6, 2) AS INT)
    ) - (
      CAST(SUBSTRING(l.month, 1, 4) AS INT) * 12 + CAST(SUBSTRING(l.month, 6, 2) AS INT)
    ) AS age
  FROM touching AS l
), weighted AS (
  SELECT
    chain_code,
    payer,
    payee,
    CAST(ROUND(
      SUM(
        CAST(total_amount AS DECIMAL(24, 2)) * CAST(ROUND(POWER(CAST(:decay AS DOUBLE), age), 12) AS DECIMAL(14, 12))
      ),
      2
    ) AS DECIMAL(38, 2)) AS weight
  FROM aged
  GROUP BY
    1,
    2,
    3
), nodes AS (
  SELECT
    chain_code,
    payer AS uscc
  FROM weighted
  UNION
  SELECT
    chain_code,
    payee AS uscc
  FROM weighted
), node_ids AS (
  /* Dense ids 0..n-1 per chain in USCC order: sorted by USCC, the links are sorted by id as well. */
  SELECT
    chain_code,
    uscc,
    CAST(ROW_NUMBER() OVER (PARTITION BY chain_code ORDER BY uscc NULLS LAST) - 1 AS INT) AS node_id
  FROM nodes
)
SELECT
  w.chain_code,
  w.payer,
  w.payee,
  w.weight,
  a.node_id AS payer_id,
  b.node_id AS payee_id
FROM weighted AS w
JOIN node_ids AS a
  ON a.chain_code = w.chain_code AND a.uscc = w.payer
JOIN node_ids AS b
  ON b.chain_code = w.chain_code AND b.uscc = w.payee
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST
