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
), loan AS (
  SELECT
    l.loan_id,
    l.bank_code,
    l.borrower_uscc,
    l.disbursement_account,
    l.disbursed_at,
    CAST(l.amount * 100 AS BIGINT) AS amount_fen,
    l.disbursed_at + :window_days * INTERVAL '1' DAY AS t_end,
    DATE_FORMAT(l.disbursed_at + INTERVAL '8' HOUR - INTERVAL '12' MONTH, 'yyyy-MM') AS act_from,
    DATE_FORMAT(l.disbursed_at + :window_days * INTERVAL '1' DAY + INTERVAL '8' HOUR, 'yyyy-MM') AS act_to,
    CAST(l.disbursed_at AS DATE) - :shell_age_days AS new_since
  FROM loans AS l
  WHERE
    l.loan_id = :loan_id
    AND l.month = :loan_month
    AND l.bank_code IN (
      SELECT
        org_code
      FROM tree
    )
), borrower AS (
  SELECT
    l.loan_id,
    e.uscc,
    e.legal_rep_id,
    e.address,
    e.phone
  FROM loan AS l
  JOIN enterprises AS e
    ON e.uscc = l.borrower_uscc
), rel_owner AS (
  SELECT
    loan_id,
    uscc AS owner_id,
    1 AS rel_rank
  FROM borrower
  UNION ALL
  SELECT
    loan_id,
    legal_rep_id,
    2
  FROM borrower
  UNION ALL
  SELECT
    b.loan_id,
    s.holder_id,
    3
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.uscc = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    4
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    5
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.legal_rep_id = b.legal_rep_id AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    6
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.legal_rep_id AND s.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s2.uscc,
    7
  FROM borrower AS b
  JOIN shareholders AS s1
    ON s1.uscc = b.uscc AND s1.holder_type = 'enterprise'
  JOIN shareholders AS s2
    ON s2.holder_id = s1.holder_id AND s2.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    8
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.address = b.address AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    9
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.phone = b.phone AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    l.loan_id,
    g.guarantor_id,
    10
  FROM loan AS l
  JOIN loan_guarantees AS g
    ON g.loan_id = l.loan_id
)
SELECT
  'related' AS row_type,
  r.loan_id,
  a.account_no,
  r.rel_rank,
  a.owner_id,
  a.owner_type,
  a.owner_name,
  a.category,
  0 AS shell_new,
  0 AS shell_linked
FROM rel_owner AS r
JOIN accounts AS a
  ON a.owner_id = r.owner_id
ORDER BY
  loan_id NULLS LAST,
  row_type NULLS LAST,
  account_no NULLS LAST,
  rel_rank NULLS LAST
