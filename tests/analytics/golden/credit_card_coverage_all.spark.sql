WITH u AS (
  SELECT
    uscc
  FROM enterprises
  UNION
  SELECT
    uscc
  FROM shareholders
  UNION
  SELECT
    uscc
  FROM registration_changes
  UNION
  SELECT
    uscc
  FROM tax_monthly
  UNION
  SELECT
    uscc
  FROM tax_credit_ratings
  UNION
  SELECT
    uscc
  FROM headcount_monthly
  UNION
  SELECT
    uscc
  FROM patents
  UNION
  SELECT
    uscc
  FROM trademarks
  UNION
  SELECT
    uscc
  FROM copyrights
  UNION
  SELECT
    uscc
  FROM judicial
  UNION
  SELECT
    uscc
  FROM dishonest_debtors
  UNION
  SELECT
    uscc
  FROM admin_penalties
  UNION
  SELECT
    uscc
  FROM source_coverage
)
SELECT
  u.uscc,
  c.source,
  c.covered,
  c.as_of,
  c.bureau
FROM u
LEFT JOIN source_coverage AS c
  ON c.uscc = u.uscc
ORDER BY
  u.uscc NULLS LAST,
  c.source NULLS LAST
