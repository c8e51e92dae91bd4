WITH node AS (
  SELECT
    org_code
  FROM banks
  WHERE
    org_code = :root_code
), child AS (
  SELECT
    org_code
  FROM banks
  WHERE
    parent_code IN (
      SELECT
        org_code
      FROM node
    )
), grandchild AS (
  SELECT
    org_code
  FROM banks
  WHERE
    parent_code IN (
      SELECT
        org_code
      FROM child
    )
), tree AS (
  SELECT
    org_code
  FROM node
  UNION ALL
  SELECT
    org_code
  FROM child
  UNION ALL
  SELECT
    org_code
  FROM grandchild
)
SELECT
  org_code
FROM tree
ORDER BY
  org_code NULLS LAST
