/* Payments between enterprises registered in the region (`enterprises`) where at least one side is a member */
/* of the chain: the supply network's edges per month (payer pays payee; goods flow the other way). */
WITH members AS (
  SELECT
    uscc
  FROM chain_members
  WHERE
    chain_code = :chain_code
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
)
SELECT
  t.month,
  fa.uscc AS payer,
  ta.uscc AS payee,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN ent_accounts AS fa
  ON fa.account_no = t.from_account
JOIN ent_accounts AS ta
  ON ta.account_no = t.to_account
WHERE
  t.month BETWEEN :from_month AND :to_month
  AND fa.uscc <> ta.uscc
  AND (
    fa.uscc IN (
      SELECT
        uscc
      FROM members
    )
    OR ta.uscc IN (
      SELECT
        uscc
      FROM members
    )
  )
GROUP BY
  1,
  2,
  3
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST
