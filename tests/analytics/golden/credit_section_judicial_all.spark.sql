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
    source = 'judicial' AND covered
), cs AS (
  SELECT
    cov.uscc,
    x.case_no,
    x.case_type,
    x.role,
    x.filed_on,
    x.amount,
    x.status,
    cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.filed_on DESC, x.case_no DESC) AS k
  FROM cov
  JOIN judicial AS x
    ON x.uscc = cov.uscc AND x.filed_on <= cov.a
), dl AS (
  SELECT
    cov.uscc,
    x.case_no,
    x.court,
    x.amount,
    x.listed_on,
    x.removed_on,
    x.removed_on IS NULL OR x.removed_on > cov.a AS listed_now,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.listed_on DESC, x.case_no DESC) AS k
  FROM cov
  JOIN dishonest_debtors AS x
    ON x.uscc = cov.uscc AND x.listed_on <= cov.a
), ca AS (
  SELECT
    uscc,
    COUNT(CASE WHEN status = 'open' THEN 1 END) AS open_n,
    SUM(CASE WHEN status = 'open' THEN amount END) AS open_amount,
    COUNT(CASE WHEN filed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN filed_on > d36 AND role IN ('defendant', 'executed') THEN 1 END) AS def36,
    MIN(CASE WHEN status = 'open' AND case_type = 'enforcement' THEN filed_on END) AS enforcement_since,
    MIN(
      CASE
        WHEN status = 'open' AND case_type = 'loan' AND role = 'defendant'
        THEN filed_on
      END
    ) AS loan_since
  FROM cs
  GROUP BY
    uscc
), da AS (
  SELECT
    uscc,
    MIN(CASE WHEN listed_now THEN listed_on END) AS listed_since
  FROM dl
  GROUP BY
    uscc
), j AS (
  SELECT
    cov.uscc,
    ca.open_n,
    COALESCE(ca.open_amount, 0) AS open_amount,
    ca.c36,
    ca.def36,
    ca.enforcement_since,
    ca.loan_since,
    da.listed_since
  FROM cov
  LEFT JOIN ca
    ON ca.uscc = cov.uscc
  LEFT JOIN da
    ON da.uscc = cov.uscc
), entry_rows AS (
  SELECT
    uscc,
    'open_cases' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(open_n, 0) AS STRING), 'null') AS value
  FROM j
  UNION ALL
  SELECT
    uscc,
    'open_case_amount' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN open_amount IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(open_amount AS STRING) || CHR(  34)
    END AS value
  FROM j
  UNION ALL
  SELECT
    uscc,
    'cases_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(c36, 0) AS STRING), 'null') AS value
  FROM j
  UNION ALL
  SELECT
    uscc,
    'defendant_cases_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(def36, 0) AS STRING), 'null') AS value
  FROM j
  UNION ALL
  SELECT
    uscc,
    'dishonest_debtor' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE WHEN NOT listed_since IS NULL THEN 'true' ELSE 'false' END AS value
  FROM j
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
    CAST(1 AS BIGINT) AS ord,
    '{"flag":' || '"dishonest_debtor"' || ',"since":' || CASE
      WHEN listed_since IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(listed_since AS STRING) || CHR(  34)
    END || '}' AS value
  FROM j
  WHERE
    NOT listed_since IS NULL
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
    CAST(2 AS BIGINT) AS ord,
    '{"flag":' || '"open_enforcement"' || ',"since":' || CASE
      WHEN enforcement_since IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(enforcement_since AS STRING) || CHR(  34)
    END || '}' AS value
  FROM j
  WHERE
    NOT enforcement_since IS NULL
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
    CAST(3 AS BIGINT) AS ord,
    '{"flag":' || '"loan_dispute_defendant"' || ',"since":' || CASE
      WHEN loan_since IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(loan_since AS STRING) || CHR(  34)
    END || '}' AS value
  FROM j
  WHERE
    NOT loan_since IS NULL
  UNION ALL
  SELECT
    uscc,
    'dishonest_listings' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"amount":' || CASE
      WHEN amount IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(amount AS STRING) || CHR(  34)
    END || ',"case_no":' || CASE
      WHEN case_no IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(case_no, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"court":' || CASE
      WHEN court IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(court, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || ',"listed_on":' || CASE
      WHEN listed_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(listed_on AS STRING) || CHR(  34)
    END || ',"removed_on":' || CASE
      WHEN removed_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(removed_on AS STRING) || CHR(  34)
    END || '}' AS value
  FROM dl
  UNION ALL
  SELECT
    uscc,
    'cases' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"amount":' || CASE
      WHEN amount IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(amount AS STRING) || CHR(  34)
    END || ',"case_no":' || CASE
      WHEN case_no IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(case_no, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"case_type":' || CASE
      WHEN case_type IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(case_type, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"filed_on":' || CASE
      WHEN filed_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(filed_on AS STRING) || CHR(  34)
    END || ',"role":' || CASE
      WHEN role IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(role, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || ',"status":' || CASE
      WHEN status IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(status, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || '}' AS value
  FROM cs
  WHERE
    k <= 10
  UNION ALL
  SELECT
    uscc,
    'cases' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM cov
  UNION ALL
  SELECT
    uscc,
    'dishonest_listings' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM cov
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
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
    NOT key IN ('cases', 'dishonest_listings', 'flags')
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
    key IN ('cases', 'dishonest_listings', 'flags')
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
