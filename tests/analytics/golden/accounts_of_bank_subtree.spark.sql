/* Accounts opened at one bank node (head office, branch or outlet) or anywhere below it, by account_no. */
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
  a.account_no,
  a.bank_code,
  a.owner_type,
  a.owner_id,
  a.owner_name,
  a.category,
  a.opened_on,
  a.currency,
  COUNT(*) OVER () AS total
FROM accounts AS a
WHERE
  a.bank_code IN (
    SELECT
      org_code
    FROM tree
  )
ORDER BY
  a.account_no NULLS LAST
LIMIT :limit
OFFSET :offset
