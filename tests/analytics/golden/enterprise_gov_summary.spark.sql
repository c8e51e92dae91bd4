/* One row per call, even for an enterprise with no records: every part is an aggregate without GROUP BY. */
/* Everything is as of the end of the as-of month; nothing later is counted. */
WITH headcount AS (
  SELECT
    MAX(period) AS headcount_period,
    MAX_BY(social_insurance_count, period) AS social_insurance_count,
    MAX_BY(provident_fund_count, period) AS provident_fund_count
  FROM headcount_monthly
  WHERE
    uscc = :uscc AND period <= :as_of_month
), tax AS (
  /* The twelve months ending with the as-of month; 'YYYY-MM' strings compare in calendar order. */
  SELECT
    COUNT(*) AS tax_months,
    CAST(COALESCE(SUM(tax_paid), 0) AS DECIMAL(38, 2)) AS tax_paid_12m,
    CAST(COALESCE(SUM(sales_declared), 0) AS DECIMAL(38, 2)) AS sales_declared_12m
  FROM tax_monthly
  WHERE
    uscc = :uscc
    AND period > DATE_FORMAT(CAST(:as_of_month || '-01' AS DATE) - INTERVAL '12' MONTH, 'yyyy-MM')
    AND period <= :as_of_month
), patent AS (
  SELECT
    COUNT(CASE WHEN kind = 'invention' THEN 1 END) AS invention_patents,
    COUNT(CASE WHEN kind = 'utility_model' THEN 1 END) AS utility_model_patents,
    COUNT(CASE WHEN kind = 'design' THEN 1 END) AS design_patents
  FROM patents
  WHERE
    uscc = :uscc AND DATE_FORMAT(filed_on, 'yyyy-MM') <= :as_of_month
), cases AS (
  /* Status is the courts' current one; cases filed after the as-of month are left out. */
  SELECT
    COUNT(*) AS open_cases,
    CAST(COALESCE(SUM(amount), 0) AS DECIMAL(38, 2)) AS open_case_amount
  FROM judicial
  WHERE
    uscc = :uscc
    AND status = 'open'
    AND DATE_FORMAT(filed_on, 'yyyy-MM') <= :as_of_month
)
SELECT
  CAST(:uscc AS STRING) AS uscc,
  CAST(:as_of_month AS STRING) AS as_of_month,
  headcount.headcount_period,
  headcount.social_insurance_count,
  headcount.provident_fund_count,
  tax.tax_months,
  tax.tax_paid_12m,
  tax.sales_declared_12m,
  patent.invention_patents,
  patent.utility_model_patents,
  patent.design_patents,
  cases.open_cases,
  cases.open_case_amount
FROM headcount
CROSS JOIN tax
CROSS JOIN patent
CROSS JOIN cases
