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
  chain_code,
  MAX(chain_name) AS chain_name,
  segment,
  COUNT(*) AS members,
  COUNT(CASE WHEN is_core THEN 1 END) AS core_members
FROM effective_members
GROUP BY
  chain_code,
  segment
ORDER BY
  chain_code NULLS LAST,
  segment NULLS LAST
