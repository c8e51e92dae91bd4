/* One month's transfers between two accounts whose owners are members of any chain, summed per (payer, payee) */
/* member: the rows of `chain_member_pairs`. Accounts join by owner as in chain_segment_flows (any owner type). */
WITH members AS (
  SELECT DISTINCT
    uscc
  FROM chain_members
), member_accounts AS (
  SELECT
    a.account_no,
    m.uscc
  FROM accounts AS a
  JOIN members AS m
    ON m.uscc = a.owner_id
)
SELECT
  p.uscc AS payer,
  q.uscc AS payee,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN member_accounts AS p
  ON p.account_no = t.from_account
JOIN member_accounts AS q
  ON q.account_no = t.to_account
WHERE
  t.month = :month
GROUP BY
  p.uscc,
  q.uscc
ORDER BY
  payer NULLS LAST,
  payee NULLS LAST
