/* Accounts opened anywhere in one bank: at the head office itself, at its branches, or at their outlets. */
/* The tree is walked in SQL, three levels deep as the banks dataset defines them; the root must be a head office. */
WITH head AS (
  SELECT
    org_code
  FROM banks
  WHERE
    org_code = :head_code AND level = 'head_office'
), branch AS (
  SELECT
    org_code
  FROM banks
  WHERE
    parent_code IN (
      SELECT
        org_code
      FROM head
    )
), outlet AS (
  SELECT
    org_code
  FROM banks
  WHERE
    parent_code IN (
      SELECT
        org_code
      FROM branch
    )
), tree AS (
  SELECT
    org_code
  FROM head
  UNION ALL
  SELECT
    org_code
  FROM branch
  UNION ALL
  SELECT
    org_code
  FROM outlet
)
SELECT
  a.account_no,
  a.bank_code,
  a.owner_type,
  a.owner_id,
  a.owner_name,
  a.category,
  a.opened_on,
  a.currency
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
