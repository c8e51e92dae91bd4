/* Money between the segments of one industrial chain: a transfer counts when the owners of both accounts */
/* (owner_id = the enterprise's USCC) are members of the chain. Flows inside a segment are included. */
SELECT
  t.month,
  payer.segment AS from_segment,
  payee.segment AS to_segment,
  COUNT(*) AS txn_count,
  CAST(SUM(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN accounts AS fa
  ON fa.account_no = t.from_account
JOIN chain_members AS payer
  ON payer.uscc = fa.owner_id AND payer.chain_code = :chain_code
JOIN accounts AS ta
  ON ta.account_no = t.to_account
JOIN chain_members AS payee
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
