WITH segment_overrides AS (
  SELECT
    SPLIT_PART(o, ':', 1) AS chain_code,
    SPLIT_PART(o, ':', 2) AS uscc,
    SPLIT_PART(o, ':', 3) AS segment
  FROM (
    SELECT
      EXPLODE(SPLIT(:segment_overrides, CONCAT('\\Q', ';', '\\E'))) AS o
  ) AS listed
  WHERE
    o <> ''
), effective_members AS (
  SELECT
    m.chain_code,
    m.chain_name,
    m.uscc,
    COALESCE(o.segment, m.segment) AS segment,
    m.segment AS dataset_segment,
    m.is_core
  FROM chain_members AS m
  LEFT JOIN segment_overrides AS o
    ON o.chain_code = m.chain_code AND o.uscc = m.uscc
)
SELECT
  m.uscc,
  m.segment,
  m.dataset_segment,
  m.is_core,
  e.name,
  e.industry_code,
  e.district_code,
  e.status,
  COUNT(*) OVER () AS total
FROM effective_members AS m
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
