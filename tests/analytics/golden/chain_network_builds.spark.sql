/* Per stored as-of month: its latest build's time and the parameters that build used. */
WITH latest AS (
  SELECT
    month,
    MAX(built_at) AS built_at
  FROM chain_network_links
  GROUP BY
    month
)
SELECT DISTINCT
  l.month AS as_of_month,
  l.built_at,
  c.decay,
  c.window_months
FROM latest AS l
JOIN chain_network_links AS c
  ON c.month = l.month AND c.built_at = l.built_at
ORDER BY
  as_of_month NULLS LAST
