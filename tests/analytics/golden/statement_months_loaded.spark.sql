SELECT
  month,
  COUNT(*) AS txn_count
FROM transfers
WHERE
  month BETWEEN :from_month AND :to_month
GROUP BY
  month
ORDER BY
  month NULLS LAST
