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
    source = 'headcount' AND covered
), h AS (
  SELECT
    cov.uscc,
    x.period,
    CAST(x.social_insurance_count AS BIGINT) AS si,
    CAST(x.provident_fund_count AS BIGINT) AS pf,
    x.period >= DATE_FORMAT(cov.a - INTERVAL '23' MONTH, 'yyyy-MM') AS shown,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.period DESC) AS back
  FROM cov
  JOIN headcount_monthly AS x
    ON x.uscc = cov.uscc AND x.period <= cov.m
), l AS (
  SELECT
    cov.uscc,
    h.period,
    h.si,
    h.pf,
    DATE_FORMAT(CAST(h.period || '-01' AS DATE) - INTERVAL '12' MONTH, 'yyyy-MM') AS ago
  FROM cov
  LEFT JOIN h
    ON h.uscc = cov.uscc AND h.back = 1
), y AS (
  SELECT
    l.uscc,
    l.period,
    l.si,
    l.pf,
    b.si AS si_ago,
    b.pf AS pf_ago
  FROM l
  LEFT JOIN h AS b
    ON b.uscc = l.uscc AND b.period = l.ago
), entry_rows AS (
  SELECT
    uscc,
    'latest_period' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN period IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(period, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM y
  UNION ALL
  SELECT
    uscc,
    'social_insurance_latest' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(si AS STRING), 'null') AS value
  FROM y
  UNION ALL
  SELECT
    uscc,
    'provident_fund_latest' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(pf AS STRING), 'null') AS value
  FROM y
  UNION ALL
  SELECT
    uscc,
    'social_insurance_12m_ago' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(si_ago AS STRING), 'null') AS value
  FROM y
  UNION ALL
  SELECT
    uscc,
    'social_insurance_change_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(si - si_ago AS STRING), 'null') AS value
  FROM y
  UNION ALL
  SELECT
    uscc,
    'provident_fund_change_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(pf - pf_ago AS STRING), 'null') AS value
  FROM y
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
    END || ',"provident_fund":' || COALESCE(CAST(pf AS STRING), 'null') || ',"social_insurance":' || COALESCE(CAST(si AS STRING), 'null') || '}' AS value
  FROM h
  WHERE
    shown
  UNION ALL
  SELECT
    uscc,
    'months' AS key,
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
    NOT key IN ('months')
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
    key IN ('months')
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
  cards.data
FROM cards
ORDER BY
  cards.uscc NULLS LAST
