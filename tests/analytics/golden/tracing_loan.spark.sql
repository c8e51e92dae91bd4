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
  l.loan_id,
  l.bank_code,
  l.borrower_uscc,
  l.disbursement_account,
  l.amount,
  l.disbursed_at,
  l.term_months,
  l.declared_purpose,
  l.month AS loan_month,
  e.name AS borrower_name,
  e.legal_rep_name AS borrower_rep_name
FROM loans AS l
LEFT JOIN enterprises AS e
  ON e.uscc = l.borrower_uscc
WHERE
  l.loan_id = :loan_id AND l.bank_code IN (
    SELECT
      org_code
    FROM tree
  )
