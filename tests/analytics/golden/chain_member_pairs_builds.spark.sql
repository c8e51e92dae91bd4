/* Per month of member-pair sums: its latest build's time (from the marker rows, one per build). */
SELECT
  month,
  MAX(built_at) AS built_at
FROM chain_member_pairs
WHERE
  payer IS NULL
GROUP BY
  month
ORDER BY
  month NULLS LAST
