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
    source = 'registration' AND covered
), e AS (
  SELECT
    cov.uscc,
    x.name,
    x.status,
    x.registered_capital,
    x.established_on,
    x.industry_code,
    x.district_code,
    x.address,
    x.legal_rep_name
  FROM cov
  JOIN enterprises AS x
    ON x.uscc = cov.uscc
), ch AS (
  SELECT
    cov.uscc,
    x.changed_on,
    x.item,
    x.before_value,
    x.after_value,
    cov.d12,
    cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.changed_on DESC, x.item DESC) AS k
  FROM cov
  JOIN registration_changes AS x
    ON x.uscc = cov.uscc AND x.changed_on <= cov.a
), chn AS (
  SELECT
    uscc,
    COUNT(CASE WHEN changed_on > d12 THEN 1 END) AS c12,
    COUNT(CASE WHEN changed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN changed_on > d36 AND item = 'legal_rep' THEN 1 END) AS lr36
  FROM ch
  GROUP BY
    uscc
), r AS (
  SELECT
    e.*,
    chn.c12,
    chn.c36,
    chn.lr36
  FROM e
  LEFT JOIN chn
    ON chn.uscc = e.uscc
), sh AS (
  SELECT
    e.uscc,
    x.holder_type,
    x.holder_name,
    x.share_ratio,
    ROW_NUMBER() OVER (
      PARTITION BY e.uscc
      ORDER BY x.share_ratio DESC, COALESCE(x.holder_name, '') ASC NULLS LAST, COALESCE(x.holder_type, '') ASC NULLS LAST
    ) AS k
  FROM e
  JOIN shareholders AS x
    ON x.uscc = e.uscc
), entry_rows AS (
  SELECT
    uscc,
    'name' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN name IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(name, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'status' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN status IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(status, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'registered_capital' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN registered_capital IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(registered_capital AS STRING) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'established_on' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN established_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(established_on AS STRING) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'industry_code' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN industry_code IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(industry_code, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'district_code' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN district_code IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(district_code, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'address' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN address IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(address, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'legal_rep_name' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN legal_rep_name IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(legal_rep_name, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'changes_12m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(c12, 0) AS STRING), 'null') AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'changes_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(c36, 0) AS STRING), 'null') AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'legal_rep_changes_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(lr36, 0) AS STRING), 'null') AS value
  FROM r
  UNION ALL
  SELECT
    uscc,
    'shareholders' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"holder_type":' || CASE
      WHEN holder_type IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(holder_type, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"name":' || CASE
      WHEN holder_name IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(holder_name, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"share_ratio":' || CASE
      WHEN share_ratio IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(share_ratio AS STRING) || CHR(  34)
    END || '}' AS value
  FROM sh
  UNION ALL
  SELECT
    uscc,
    'changes' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"after":' || CASE
      WHEN after_value IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(after_value, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"before":' || CASE
      WHEN before_value IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(before_value, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"changed_on":' || CASE
      WHEN changed_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(changed_on AS STRING) || CHR(  34)
    END || ',"item":' || CASE
      WHEN item IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(item, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || '}' AS value
  FROM ch
  WHERE
    k <= 10
  UNION ALL
  SELECT
    uscc,
    'changes' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM e
  UNION ALL
  SELECT
    uscc,
    'shareholders' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM e
), entries AS (
  SELECT
    uscc,
    key,
    value
  FROM entry_rows
  WHERE
    NOT key IN ('changes', 'shareholders')
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
    key IN ('changes', 'shareholders')
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
