SELECT
  as_of,
  balance
FROM opening_balances
WHERE
  account_no = :account_no AND as_of <= :on_day
ORDER BY
  as_of DESC
LIMIT 1
