/* Payments between enterprises registered in the region (`enterprises`) where at least one side is a member */
/* of the chain: the supply network's edges per month (payer pays payee; goods flow the other way). */
/* The window's transfers are first cut to those touching a member's account (`touching`), and only those are */
/* joined to both sides' owners: joining every transfer between registered enterprises first and filtering */
/* by membership afterwards was the chain page's slowest statement (~540 → ~440 ms on the medium region). */
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
), member_accounts AS (
  SELECT
    account_no
  FROM ent_accounts
  WHERE
    uscc IN (
      SELECT
        uscc
      FROM members
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
        FROM member_accounts
      )
      OR t.to_account IN (
        SELECT
          account_no
        FROM member_accounts
      )
    )
)
SELECT
  t.month,
  fa.uscc AS payer,
  ta.uscc AS payee,
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
  3
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST
