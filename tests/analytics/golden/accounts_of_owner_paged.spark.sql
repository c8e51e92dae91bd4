SELECT
  account_no,
  bank_code,
  owner_type,
  owner_id,
  owner_name,
  category,
  opened_on,
  currency,
  COUNT(*) OVER () AS total
FROM accounts
WHERE
  owner_id = :owner_id
ORDER BY
  account_no NULLS LAST
LIMIT :limit
OFFSET :offset
