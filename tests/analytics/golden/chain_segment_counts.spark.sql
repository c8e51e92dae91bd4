SELECT
  chain_code,
  MAX(chain_name) AS chain_name,
  segment,
  COUNT(*) AS members,
  COUNT(CASE WHEN is_core THEN 1 END) AS core_members
FROM chain_members
GROUP BY
  chain_code,
  segment
ORDER BY
  chain_code NULLS LAST,
  segment NULLS LAST
