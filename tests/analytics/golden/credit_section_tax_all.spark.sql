WITH cov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'tax' AND covered
), t AS (
  SELECT
    cov.uscc,
    x.period,
    x.tax_paid,
    x.sales_declared,
    x.period >= cov.f12 AS in12,
    x.period >= cov.f24 AND x.period < cov.f12 AS inprev,
    x.period >= cov.f24 AS shown
  FROM cov
  JOIN tax_monthly AS x
    ON x.uscc = cov.uscc AND x.period <= cov.m
), s AS (
  SELECT
    cov.uscc,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paid12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paidprev,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS sales12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS salesprev,
    COUNT(CASE WHEN t.in12 THEN 1 END) AS filed12,
    COUNT(CASE WHEN t.in12 AND t.sales_declared = 0 THEN 1 END) AS zero12
  FROM cov
  LEFT JOIN t
    ON t.uscc = cov.uscc
  GROUP BY
    cov.uscc
), r AS (
  SELECT
    cov.uscc,
    x.year,
    x.rating,
    x.rated_on,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.year DESC) AS k
  FROM cov
  JOIN tax_credit_ratings AS x
    ON x.uscc = cov.uscc AND x.rated_on <= cov.a
), latest AS (
  SELECT
    cov.uscc,
    r.rating
  FROM cov
  LEFT JOIN r
    ON r.uscc = cov.uscc AND r.k = 1
), entry_rows AS (
  SELECT
    uscc,
    'tax_paid_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN paid12 IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(paid12 AS STRING) || CHR(  34)
    END AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'tax_paid_prev_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN paidprev IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(paidprev AS STRING) || CHR(  34)
    END AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'sales_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN sales12 IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(sales12 AS STRING) || CHR(  34)
    END AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'sales_prev_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN salesprev IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(salesprev AS STRING) || CHR(  34)
    END AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'months_filed_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(filed12 AS STRING), 'null') AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'zero_sales_months_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(zero12 AS STRING), 'null') AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'latest_rating' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN rating IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(rating, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM latest
  UNION ALL
  SELECT
    uscc,
    'ratings' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"rated_on":' || CASE
      WHEN rated_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(rated_on AS STRING) || CHR(  34)
    END || ',"rating":' || CASE
      WHEN rating IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(rating, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"year":' || COALESCE(CAST(year AS STRING), 'null') || '}' AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'months' AS key,
    CAST(ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY period NULLS LAST) AS BIGINT) AS ord,
    '{"period":' || CASE
      WHEN period IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(period, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"sales_declared":' || CASE
      WHEN sales_declared IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(sales_declared AS STRING) || CHR(  34)
    END || ',"tax_paid":' || CASE
      WHEN tax_paid IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(tax_paid AS STRING) || CHR(  34)
    END || '}' AS value
  FROM t
  WHERE
    shown
  UNION ALL
  SELECT
    uscc,
    'tax_paid_growth' AS key,
    CAST(0 AS BIGINT) AS ord,
    'null' AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'sales_growth' AS key,
    CAST(0 AS BIGINT) AS ord,
    'null' AS value
  FROM s
  UNION ALL
  SELECT
    uscc,
    'months' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM cov
  UNION ALL
  SELECT
    uscc,
    'ratings' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM cov
), entries AS (
  SELECT
    uscc,
    key,
    value
  FROM entry_rows
  WHERE
    NOT key IN ('months', 'ratings')
  UNION ALL
  SELECT
    uscc,
    key,
    '[' || SUBSTRING(
      ARRAY_JOIN(
        TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(ord AS k, value AS v))), item -> item.v),
        ','
      ),
      2
    ) || ']' AS value
  FROM entry_rows
  WHERE
    key IN ('months', 'ratings')
  GROUP BY
    uscc,
    key
), cards AS (
  SELECT
    uscc,
    '{' || ARRAY_JOIN(
      TRANSFORM(
        ARRAY_SORT(
          COLLECT_LIST(STRUCT(key AS k, CHR(  34) || key || CHR(  34) || ':' || value AS v))
        ),
        item -> item.v
      ),
      ','
    ) || '}' AS data
  FROM entries
  GROUP BY
    uscc
)
SELECT
  cards.uscc,
  cards.data,
  s.paid12,
  s.paidprev,
  s.sales12,
  s.salesprev
FROM cards
JOIN s
  ON s.uscc = cards.uscc
ORDER BY
  cards.uscc NULLS LAST
