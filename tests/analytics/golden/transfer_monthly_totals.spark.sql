/* `month` is the lake's partition column: the Asia/Shanghai month of each transfer's time. */
/* The sum is cast so both engines return the same exact type (DuckDB would give DECIMAL(38,2), Spark (28,2)). */
SELECT
  month,
  COUNT(*) AS txn_count,
  CAST(SUM(amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers
GROUP BY
  month
ORDER BY
  month NULLS LAST
