/* Members per (effective) segment and how many of them borrowed in the window (coverage = borrowers / members). */
WITH segment_overrides AS (
  SELECT
    SPLIT_PART(o, ':', 1) AS chain_code,
    SPLIT_PART(o, ':', 2) AS uscc,
    SPLIT_PART(o, ':', 3) AS segment
  FROM (
    SELECT
      EXPLODE(SPLIT(:segment_overrides, CONCAT('\\Q', ';', '\\E'))) AS o
  ) AS listed
  WHERE
    o <> ''
), effective_members AS (
  SELECT
    m.chain_code,
    m.chain_name,
    m.uscc,
    COALESCE(o.segment, m.segment) AS segment,
    m.segment AS dataset_segment,
    m.is_core
  FROM chain_members AS m
  LEFT JOIN segment_overrides AS o
    ON o.chain_code = m.chain_code AND o.uscc = m.uscc
)
SELECT
  m.segment,
  COUNT(*) AS members,
  COUNT(
    CASE
      WHEN m.uscc IN (
        SELECT
          borrower_uscc
        FROM loans
        WHERE
          month BETWEEN :from_month AND :to_month
      )
      THEN 1
    END
  ) AS members_with_credit
FROM effective_members AS m
WHERE
  m.chain_code = :chain_code
GROUP BY
  m.segment
ORDER BY
  m.segment NULLS LAST
