/* Health indicators, as of a month, of the chain's members and of every enterprise that paid or was paid by */
/* $focus in the six months to that month (its suppliers and dealers, members or not): head-count now and */
/* six months earlier, tax of the last twelve months and the twelve before, open judicial cases against */
/* them, and in how many of the last six months they paid anyone. */
WITH subjects AS (
  SELECT
    uscc
  FROM chain_members
  WHERE
    chain_code = :chain_code
  UNION
  SELECT
    other.owner_id AS uscc
  FROM transfers AS t
  JOIN accounts AS mine
    ON mine.owner_id = :focus
    AND mine.owner_type = 'enterprise'
    AND mine.account_no IN (t.from_account, t.to_account)
  JOIN accounts AS other
    ON other.owner_type = 'enterprise'
    AND other.owner_id <> :focus
    AND other.account_no IN (t.from_account, t.to_account)
    AND other.owner_id IN (
      SELECT
        uscc
      FROM enterprises
    )
  WHERE
    t.month > :earlier_month AND t.month <= :as_of_month
), hc AS (
  SELECT
    uscc,
    MAX(CASE WHEN period = :as_of_month THEN social_insurance_count END) AS headcount_now,
    MAX(CASE WHEN period = :earlier_month THEN social_insurance_count END) AS headcount_before
  FROM headcount_monthly
  WHERE
    period IN (:as_of_month, :earlier_month)
    AND uscc IN (
      SELECT
        uscc
      FROM subjects
    )
  GROUP BY
    uscc
), tax AS (
  SELECT
    uscc,
    CAST(SUM(CASE WHEN period > :tax_split_month THEN tax_paid ELSE 0 END) AS DECIMAL(38, 2)) AS tax_12m,
    CAST(SUM(CASE WHEN period <= :tax_split_month THEN tax_paid ELSE 0 END) AS DECIMAL(38, 2)) AS tax_prev_12m
  FROM tax_monthly
  WHERE
    period > :tax_from_month
    AND period <= :as_of_month
    AND uscc IN (
      SELECT
        uscc
      FROM subjects
    )
  GROUP BY
    uscc
), cases AS (
  SELECT
    uscc,
    COUNT(*) AS open_cases
  FROM judicial
  WHERE
    status = 'open'
    AND role IN ('defendant', 'executed')
    AND filed_on < :as_of_end
    AND uscc IN (
      SELECT
        uscc
      FROM subjects
    )
  GROUP BY
    uscc
), paying AS (
  SELECT
    a.owner_id AS uscc,
    COUNT(DISTINCT t.month) AS paying_months
  FROM transfers AS t
  JOIN accounts AS a
    ON a.account_no = t.from_account AND a.owner_type = 'enterprise'
  WHERE
    t.month > :earlier_month
    AND t.month <= :as_of_month
    AND a.owner_id IN (
      SELECT
        uscc
      FROM subjects
    )
  GROUP BY
    a.owner_id
)
SELECT
  s.uscc,
  e.name,
  e.status,
  hc.headcount_now,
  hc.headcount_before,
  COALESCE(tax.tax_12m, CAST(0 AS DECIMAL(38, 2))) AS tax_12m,
  COALESCE(tax.tax_prev_12m, CAST(0 AS DECIMAL(38, 2))) AS tax_prev_12m,
  COALESCE(cases.open_cases, 0) AS open_cases,
  COALESCE(paying.paying_months, 0) AS paying_months
FROM subjects AS s
LEFT JOIN enterprises AS e
  ON e.uscc = s.uscc
LEFT JOIN hc
  ON hc.uscc = s.uscc
LEFT JOIN tax
  ON tax.uscc = s.uscc
LEFT JOIN cases
  ON cases.uscc = s.uscc
LEFT JOIN paying
  ON paying.uscc = s.uscc
ORDER BY
  s.uscc NULLS LAST
