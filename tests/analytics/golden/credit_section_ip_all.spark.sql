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
    source = 'ip' AND covered
), p AS (
  SELECT
    cov.uscc,
    x.kind,
    NOT x.granted_on IS NULL AND x.granted_on <= cov.a AS granted
  FROM cov
  JOIN patents AS x
    ON x.uscc = cov.uscc AND x.filed_on <= cov.a
), tm AS (
  SELECT
    cov.uscc,
    NOT x.registered_on IS NULL AND x.registered_on <= cov.a AS granted
  FROM cov
  JOIN trademarks AS x
    ON x.uscc = cov.uscc AND x.applied_on <= cov.a
), c AS (
  SELECT
    cov.uscc,
    x.kind
  FROM cov
  JOIN copyrights AS x
    ON x.uscc = cov.uscc AND x.registered_on <= cov.a
), ev AS (
  SELECT
    cov.uscc,
    x.granted_on AS d,
    'patent:' || x.kind AS kind,
    x.title,
    x.patent_no AS no,
    cov.d12
  FROM cov
  JOIN patents AS x
    ON x.uscc = cov.uscc
    AND x.filed_on <= cov.a
    AND NOT x.granted_on IS NULL
    AND x.granted_on <= cov.a
  UNION ALL
  SELECT
    cov.uscc,
    x.registered_on,
    'trademark',
    x.mark_name,
    x.reg_no,
    cov.d12
  FROM cov
  JOIN trademarks AS x
    ON x.uscc = cov.uscc
    AND x.applied_on <= cov.a
    AND NOT x.registered_on IS NULL
    AND x.registered_on <= cov.a
  UNION ALL
  SELECT
    cov.uscc,
    x.registered_on,
    'copyright:' || x.kind,
    x.title,
    x.reg_no,
    cov.d12
  FROM cov
  JOIN copyrights AS x
    ON x.uscc = cov.uscc AND x.registered_on <= cov.a
), evr AS (
  SELECT
    ev.*,
    ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY d DESC, no DESC) AS k
  FROM ev
), pc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN kind = 'invention' AND granted THEN 1 END) AS invention_granted,
    COUNT(CASE WHEN kind = 'invention' AND NOT granted THEN 1 END) AS invention_pending,
    COUNT(CASE WHEN kind = 'utility_model' AND granted THEN 1 END) AS utility_model_granted,
    COUNT(CASE WHEN kind = 'utility_model' AND NOT granted THEN 1 END) AS utility_model_pending,
    COUNT(CASE WHEN kind = 'design' AND granted THEN 1 END) AS design_granted,
    COUNT(CASE WHEN kind = 'design' AND NOT granted THEN 1 END) AS design_pending
  FROM p
  GROUP BY
    uscc
), tc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN granted THEN 1 END) AS registered,
    COUNT(CASE WHEN NOT granted THEN 1 END) AS pending
  FROM tm
  GROUP BY
    uscc
), cc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN kind = 'software' THEN 1 END) AS software,
    COUNT(CASE WHEN kind = 'work' THEN 1 END) AS work
  FROM c
  GROUP BY
    uscc
), gc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN d > d12 THEN 1 END) AS grants
  FROM ev
  GROUP BY
    uscc
), entry_rows AS (
  SELECT
    cov.uscc,
    'patents' AS key,
    CAST(0 AS BIGINT) AS ord,
    '{"design":' || '{"granted":' || COALESCE(CAST(COALESCE(pc.design_granted, 0) AS STRING), 'null') || ',"pending":' || COALESCE(CAST(COALESCE(pc.design_pending, 0) AS STRING), 'null') || '}' || ',"invention":' || '{"granted":' || COALESCE(CAST(COALESCE(pc.invention_granted, 0) AS STRING), 'null') || ',"pending":' || COALESCE(CAST(COALESCE(pc.invention_pending, 0) AS STRING), 'null') || '}' || ',"utility_model":' || '{"granted":' || COALESCE(CAST(COALESCE(pc.utility_model_granted, 0) AS STRING), 'null') || ',"pending":' || COALESCE(CAST(COALESCE(pc.utility_model_pending, 0) AS STRING), 'null') || '}' || '}' AS value
  FROM cov
  LEFT JOIN pc
    ON pc.uscc = cov.uscc
  LEFT JOIN tc
    ON tc.uscc = cov.uscc
  LEFT JOIN cc
    ON cc.uscc = cov.uscc
  LEFT JOIN gc
    ON gc.uscc = cov.uscc
  UNION ALL
  SELECT
    cov.uscc,
    'trademarks',
    CAST(0 AS BIGINT),
    '{"pending":' || COALESCE(CAST(COALESCE(tc.pending, 0) AS STRING), 'null') || ',"registered":' || COALESCE(CAST(COALESCE(tc.registered, 0) AS STRING), 'null') || '}'
  FROM cov
  LEFT JOIN pc
    ON pc.uscc = cov.uscc
  LEFT JOIN tc
    ON tc.uscc = cov.uscc
  LEFT JOIN cc
    ON cc.uscc = cov.uscc
  LEFT JOIN gc
    ON gc.uscc = cov.uscc
  UNION ALL
  SELECT
    cov.uscc,
    'copyrights',
    CAST(0 AS BIGINT),
    '{"software":' || COALESCE(CAST(COALESCE(cc.software, 0) AS STRING), 'null') || ',"work":' || COALESCE(CAST(COALESCE(cc.work, 0) AS STRING), 'null') || '}'
  FROM cov
  LEFT JOIN pc
    ON pc.uscc = cov.uscc
  LEFT JOIN tc
    ON tc.uscc = cov.uscc
  LEFT JOIN cc
    ON cc.uscc = cov.uscc
  LEFT JOIN gc
    ON gc.uscc = cov.uscc
  UNION ALL
  SELECT
    cov.uscc,
    'grants_12m',
    CAST(0 AS BIGINT),
    COALESCE(CAST(COALESCE(gc.grants, 0) AS STRING), 'null')
  FROM cov
  LEFT JOIN pc
    ON pc.uscc = cov.uscc
  LEFT JOIN tc
    ON tc.uscc = cov.uscc
  LEFT JOIN cc
    ON cc.uscc = cov.uscc
  LEFT JOIN gc
    ON gc.uscc = cov.uscc
  UNION ALL
  SELECT
    uscc,
    'recent_grants' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"kind":' || CASE
      WHEN kind IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(kind, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || ',"number":' || CASE
      WHEN no IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(no, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || ',"on":' || CASE WHEN d IS NULL THEN 'null' ELSE CHR(  34) || CAST(d AS STRING) || CHR(  34) END || ',"title":' || CASE
      WHEN title IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(REPLACE(title, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)) || CHR(  34)
    END || '}' AS value
  FROM evr
  WHERE
    k <= 10
  UNION ALL
  SELECT
    uscc,
    'recent_grants' AS key,
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
    NOT key IN ('recent_grants')
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
    key IN ('recent_grants')
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
