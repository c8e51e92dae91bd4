/* When the latest build of one chain's network as of a month was made, and with which parameters: the key of */
/* the resident ranking (`jinyu.chain.resident`), read without reading the links. Empty when never built. */
WITH latest AS (
  SELECT
    MAX(built_at) AS built_at
  FROM chain_network_links
  WHERE
    month = :as_of_month AND chain_code = :chain_code
)
SELECT DISTINCT
  c.built_at,
  c.decay,
  c.window_months
FROM chain_network_links AS c
JOIN latest AS l
  ON c.built_at = l.built_at
WHERE
  c.month = :as_of_month AND c.chain_code = :chain_code
