/* Per month of member-pair sums: its latest build's time. */
SELECT
  month,
  MAX(built_at) AS built_at
FROM chain_member_pairs
GROUP BY
  month
ORDER BY
  month NULLS LAST
