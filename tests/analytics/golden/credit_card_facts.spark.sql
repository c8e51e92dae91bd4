SELECT
  CAST('enterprise' AS STRING) AS source,
  uscc,
  industry_code AS item,
  established_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  district_code AS period,
  status AS status,
  registered_capital AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  name AS text,
  address AS text2,
  legal_rep_name AS text3
FROM enterprises
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('shareholder' AS STRING) AS source,
  uscc,
  holder_type AS item,
  CAST(NULL AS DATE) AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  share_ratio AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  holder_name AS text,
  CAST(NULL AS STRING) AS text2,
  CAST(NULL AS STRING) AS text3
FROM shareholders
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('change' AS STRING) AS source,
  uscc,
  item AS item,
  changed_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  before_value AS text,
  after_value AS text2,
  CAST(NULL AS STRING) AS text3
FROM registration_changes
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('tax' AS STRING) AS source,
  uscc,
  CAST(NULL AS STRING) AS item,
  CAST(NULL AS DATE) AS on_date,
  CAST(NULL AS DATE) AS end_date,
  period AS period,
  CAST(NULL AS STRING) AS status,
  tax_paid AS amount,
  sales_declared AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  CAST(NULL AS STRING) AS text,
  CAST(NULL AS STRING) AS text2,
  CAST(NULL AS STRING) AS text3
FROM tax_monthly
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('rating' AS STRING) AS source,
  uscc,
  CAST(NULL AS STRING) AS item,
  rated_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  rating AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(year AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  CAST(NULL AS STRING) AS text,
  CAST(NULL AS STRING) AS text2,
  CAST(NULL AS STRING) AS text3
FROM tax_credit_ratings
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('headcount' AS STRING) AS source,
  uscc,
  CAST(NULL AS STRING) AS item,
  CAST(NULL AS DATE) AS on_date,
  CAST(NULL AS DATE) AS end_date,
  period AS period,
  CAST(NULL AS STRING) AS status,
  provident_fund_amount AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(social_insurance_count AS BIGINT) AS n1,
  CAST(provident_fund_count AS BIGINT) AS n2,
  CAST(NULL AS STRING) AS text,
  CAST(NULL AS STRING) AS text2,
  CAST(NULL AS STRING) AS text3
FROM headcount_monthly
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('patent' AS STRING) AS source,
  uscc,
  kind AS item,
  filed_on AS on_date,
  granted_on AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  title AS text,
  patent_no AS text2,
  CAST(NULL AS STRING) AS text3
FROM patents
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('trademark' AS STRING) AS source,
  uscc,
  CAST(NULL AS STRING) AS item,
  applied_on AS on_date,
  registered_on AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(nice_class AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  mark_name AS text,
  reg_no AS text2,
  CAST(NULL AS STRING) AS text3
FROM trademarks
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('copyright' AS STRING) AS source,
  uscc,
  kind AS item,
  registered_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  title AS text,
  reg_no AS text2,
  CAST(NULL AS STRING) AS text3
FROM copyrights
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('case' AS STRING) AS source,
  uscc,
  case_type AS item,
  filed_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  status AS status,
  amount AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  role AS text,
  case_no AS text2,
  CAST(NULL AS STRING) AS text3
FROM judicial
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('dishonest' AS STRING) AS source,
  uscc,
  CAST(NULL AS STRING) AS item,
  listed_on AS on_date,
  removed_on AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  amount AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  court AS text,
  case_no AS text2,
  CAST(NULL AS STRING) AS text3
FROM dishonest_debtors
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('penalty' AS STRING) AS source,
  uscc,
  penalty_type AS item,
  decided_on AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  CAST(NULL AS STRING) AS status,
  amount AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  authority AS text,
  decision_no AS text2,
  reason AS text3
FROM admin_penalties
WHERE
  uscc = :uscc
UNION ALL
SELECT
  CAST('coverage' AS STRING) AS source,
  uscc,
  source AS item,
  as_of AS on_date,
  CAST(NULL AS DATE) AS end_date,
  CAST(NULL AS STRING) AS period,
  CASE WHEN covered THEN 'covered' ELSE 'not_covered' END AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS DECIMAL(18, 2)) AS amount2,
  CAST(NULL AS BIGINT) AS n1,
  CAST(NULL AS BIGINT) AS n2,
  bureau AS text,
  CAST(NULL AS STRING) AS text2,
  CAST(NULL AS STRING) AS text3
FROM source_coverage
WHERE
  uscc = :uscc
