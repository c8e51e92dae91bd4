SELECT
  a.account_no,
  a.category,
  a.owner_type,
  a.owner_id,
  a.owner_name,
  e.industry_code
FROM accounts AS a
LEFT JOIN enterprises AS e
  ON e.uscc = a.owner_id
WHERE
  a.account_no IN (
    SELECT
      EXPLODE(SPLIT(:accounts, CONCAT('\\Q', ',', '\\E')))
  )
ORDER BY
  a.account_no NULLS LAST
