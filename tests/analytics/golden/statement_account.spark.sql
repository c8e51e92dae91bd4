SELECT
  account_no,
  bank_code,
  owner_type,
  owner_id,
  owner_name,
  category,
  currency
FROM accounts
WHERE
  account_no = :account_no
