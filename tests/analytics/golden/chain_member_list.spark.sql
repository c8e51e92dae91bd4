SELECT
  m.uscc,
  m.segment,
  m.is_core,
  e.name,
  e.industry_code,
  e.district_code,
  e.status,
  COUNT(*) OVER () AS total
FROM chain_members AS m
LEFT JOIN enterprises AS e
  ON e.uscc = m.uscc
WHERE
  m.chain_code = :chain_code AND (
    :segment = '' OR m.segment = :segment
  )
ORDER BY
  m.is_core DESC,
  m.segment NULLS LAST,
  m.uscc NULLS LAST
LIMIT :limit
OFFSET :offset
