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
    source = 'penalties' AND covered
), pe AS (
  SELECT
    cov.uscc,
    x.penalty_type,
    x.decided_on,
    x.amount,
    x.authority,
    x.decision_no,
    x.reason,
    cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.decided_on DESC, x.decision_no DESC) AS k
  FROM cov
  JOIN admin_penalties AS x
    ON x.uscc = cov.uscc AND x.decided_on <= cov.a
), pa AS (
  SELECT
    uscc,
    COUNT(CASE WHEN decided_on > d36 THEN 1 END) AS n36,
    SUM(CASE WHEN decided_on > d36 THEN amount END) AS amount36,
    MAX(decided_on) AS latest,
    MIN(
      CASE
        WHEN decided_on > d36
        AND penalty_type IN ('confiscation', 'license_revoked', 'suspension')
        THEN decided_on
      END
    ) AS severe_since
  FROM pe
  GROUP BY
    uscc
), p AS (
  SELECT
    cov.uscc,
    pa.n36,
    COALESCE(pa.amount36, 0) AS amount36,
    pa.latest,
    pa.severe_since
  FROM cov
  LEFT JOIN pa
    ON pa.uscc = cov.uscc
), entry_rows AS (
  SELECT
    uscc,
    'penalties_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    COALESCE(CAST(COALESCE(n36, 0) AS STRING), 'null') AS value
  FROM p
  UNION ALL
  SELECT
    uscc,
    'amount_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN amount36 IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(amount36 AS STRING) || CHR(  34)
    END AS value
  FROM p
  UNION ALL
  SELECT
    uscc,
    'latest_on' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE
      WHEN latest IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(latest AS STRING) || CHR(  34)
    END AS value
  FROM p
  UNION ALL
  SELECT
    uscc,
    'severe_36m' AS key,
    CAST(0 AS BIGINT) AS ord,
    CASE WHEN NOT severe_since IS NULL THEN 'true' ELSE 'false' END AS value
  FROM p
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
    CAST(1 AS BIGINT) AS ord,
    '{"flag":' || '"severe_penalty"' || ',"since":' || CASE
      WHEN severe_since IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(severe_since AS STRING) || CHR(  34)
    END || '}' AS value
  FROM p
  WHERE
    NOT severe_since IS NULL
  UNION ALL
  SELECT
    uscc,
    'items' AS key,
    CAST(k AS BIGINT) AS ord,
    '{"amount":' || CASE
      WHEN amount IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(amount AS STRING) || CHR(  34)
    END || ',"authority":' || CASE
      WHEN authority IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(authority, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"decided_on":' || CASE
      WHEN decided_on IS NULL
      THEN 'null'
      ELSE CHR(  34) || CAST(decided_on AS STRING) || CHR(  34)
    END || ',"decision_no":' || CASE
      WHEN decision_no IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(decision_no, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"penalty_type":' || CASE
      WHEN penalty_type IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(penalty_type, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || ',"reason":' || CASE
      WHEN reason IS NULL
      THEN 'null'
      ELSE CHR(  34) || REPLACE(
        REPLACE(reason, CHR(  92), CHR(  92) || CHR(  92)),
        CHR(  34),
        CHR(  92) || CHR(  34)
      ) || CHR(  34)
    END || '}' AS value
  FROM pe
  WHERE
    k <= 10
  UNION ALL
  SELECT
    uscc,
    'flags' AS key,
    CAST(0 AS BIGINT) AS ord,
    '' AS value
  FROM cov
  UNION ALL
  SELECT
    uscc,
    'items' AS key,
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
    NOT key IN ('flags', 'items')
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
    key IN ('flags', 'items')
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
