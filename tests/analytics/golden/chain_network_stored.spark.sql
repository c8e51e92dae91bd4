/* The latest build of one chain's network as of a month (its marker row, payer null, included: a build that */
/* found no links is still a build). Empty when the month was never built. */
WITH built AS (
  SELECT
    payer,
    payee,
    weight,
    decay,
    window_months,
    built_at
  FROM chain_network_links
  WHERE
    month = :as_of_month AND chain_code = :chain_code
), latest AS (
  SELECT
    MAX(built_at) AS built_at
  FROM built
)
SELECT
  b.payer,
  b.payee,
  b.weight,
  b.decay,
  b.window_months,
  b.built_at
FROM built AS b
JOIN latest AS l
  ON b.built_at = l.built_at
ORDER BY
  b.payer NULLS LAST,
  b.payee NULLS LAST
