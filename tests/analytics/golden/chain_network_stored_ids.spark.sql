/* The links of the latest build of one chain's network as of a month with their dense node ids, sorted by */
/* them (the marker row left out): the arrays a stored month is ranked from. Only for a lake whose builds carry */
/* the ids (`stored.carries_ids`); empty when the month was never built or its build found no links. */
WITH built AS (
  SELECT
    payer,
    payee,
    weight,
    payer_id,
    payee_id,
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
  b.payer_id,
  b.payee_id,
  b.built_at
FROM built AS b
JOIN latest AS l
  ON b.built_at = l.built_at
WHERE
  NOT b.payer IS NULL
ORDER BY
  b.payer_id NULLS LAST,
  b.payee_id NULLS LAST
