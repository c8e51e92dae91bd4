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
    e.phone,
    CAST(l.disbursed_at + INTERVAL '8' HOUR AS DATE) AS on_day
  FROM loan AS l
  JOIN enterprises AS e
    ON e.uscc = l.borrower_uscc
), up1 AS (
  SELECT
    b.loan_id,
    s.holder_id AS id
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.uscc = b.uscc AND s.share_ratio >= 50
), up2 AS (
  SELECT
    u.loan_id,
    s.holder_id AS id
  FROM up1 AS u
  JOIN shareholders AS s
    ON s.uscc = u.id AND s.share_ratio >= 50
), up3 AS (
  SELECT
    u.loan_id,
    s.holder_id AS id
  FROM up2 AS u
  JOIN shareholders AS s
    ON s.uscc = u.id AND s.share_ratio >= 50
), down1 AS (
  SELECT
    b.loan_id,
    s.uscc AS id
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.uscc AND s.share_ratio >= 50
), down2 AS (
  SELECT
    d.loan_id,
    s.uscc AS id
  FROM down1 AS d
  JOIN shareholders AS s
    ON s.holder_id = d.id AND s.share_ratio >= 50
), controllers AS (
  SELECT
    loan_id,
    id
  FROM up1
  UNION ALL
  SELECT
    loan_id,
    id
  FROM up2
  UNION ALL
  SELECT
    loan_id,
    id
  FROM up3
), declared AS (
  SELECT
    b.loan_id,
    r.related_id AS owner_id,
    r.relation,
    r.source
  FROM borrower AS b
  JOIN related_parties AS r
    ON r.owner_uscc = b.uscc
  WHERE
    r.valid_from <= b.on_day
    AND (
      r.valid_to IS NULL OR r.valid_to >= b.on_day
    )
    AND (
      r.bank_code IS NULL OR r.bank_code IN (
        SELECT
          org_code
        FROM tree
      )
    )
  UNION ALL
  SELECT
    b.loan_id,
    r.owner_uscc,
    r.relation,
    r.source
  FROM borrower AS b
  JOIN related_parties AS r
    ON r.related_id = b.uscc
  WHERE
    r.valid_from <= b.on_day
    AND (
      r.valid_to IS NULL OR r.valid_to >= b.on_day
    )
    AND (
      r.bank_code IS NULL OR r.bank_code IN (
        SELECT
          org_code
        FROM tree
      )
    )
), rel_owner AS (
  SELECT
    loan_id,
    uscc AS owner_id,
    1 AS rel_rank,
    'derived:enterprises' AS rel_source
  FROM borrower
  UNION ALL
  SELECT
    loan_id,
    legal_rep_id,
    2,
    'derived:enterprises'
  FROM borrower
  UNION ALL
  SELECT
    b.loan_id,
    s.holder_id,
    3,
    'derived:shareholders'
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.uscc = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    4,
    'derived:shareholders'
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    5,
    'derived:enterprises'
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.legal_rep_id = b.legal_rep_id AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    6,
    'derived:shareholders'
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.legal_rep_id AND s.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s2.uscc,
    7,
    'derived:shareholders'
  FROM borrower AS b
  JOIN shareholders AS s1
    ON s1.uscc = b.uscc AND s1.holder_type = 'enterprise'
  JOIN shareholders AS s2
    ON s2.holder_id = s1.holder_id AND s2.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    8,
    'derived:enterprises'
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.address = b.address AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    9,
    'derived:enterprises'
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.phone = b.phone AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    l.loan_id,
    g.guarantor_id,
    10,
    'derived:loan_guarantees'
  FROM loan AS l
  JOIN loan_guarantees AS g
    ON g.loan_id = l.loan_id
  UNION ALL
  SELECT
    loan_id,
    owner_id,
    11,
    'declared:' || relation || ':' || source
  FROM declared
  UNION ALL
  SELECT
    loan_id,
    id,
    12,
    'derived:shareholders'
  FROM up2
  UNION ALL
  SELECT
    loan_id,
    id,
    12,
    'derived:shareholders'
  FROM up3
  UNION ALL
  SELECT
    loan_id,
    id,
    12,
    'derived:shareholders'
  FROM down2
  UNION ALL
  SELECT
    d.loan_id,
    s.uscc,
    12,
    'derived:shareholders'
  FROM down2 AS d
  JOIN shareholders AS s
    ON s.holder_id = d.id AND s.share_ratio >= 50
  UNION ALL
  SELECT
    c.loan_id,
    s.uscc,
    12,
    'derived:shareholders'
  FROM controllers AS c
  JOIN shareholders AS s
    ON s.holder_id = c.id AND s.share_ratio >= 50
  JOIN borrower AS b
    ON b.loan_id = c.loan_id AND s.uscc <> b.uscc
)
SELECT
  'related' AS row_type,
  r.loan_id,
  a.account_no,
  r.rel_rank,
  r.rel_source,
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
  rel_rank NULLS LAST,
  rel_source NULLS LAST
