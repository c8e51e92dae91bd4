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
    l.month >= :loans_from_month
    AND l.month <= :loans_to_month
    AND l.disbursed_at >= :disbursed_from
    AND l.disbursed_at < :disbursed_to
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
), linked AS (
  SELECT
    loan_id,
    owner_id AS uscc
  FROM rel_owner
  WHERE
    rel_rank IN (5, 8, 9)
), cand AS (
  SELECT
    uscc,
    established_on
  FROM enterprises
  WHERE
    established_on >= :new_since AND established_on <= :until
  UNION
  SELECT
    e.uscc,
    e.established_on
  FROM enterprises AS e
  WHERE
    e.uscc IN (
      SELECT
        uscc
      FROM linked
    )
), act AS (
  SELECT
    uscc,
    period
  FROM tax_monthly
  WHERE
    month >= :act_from
    AND month <= :to_month
    AND tax_paid > 0
    AND uscc IN (
      SELECT
        uscc
      FROM cand
    )
  UNION ALL
  SELECT
    uscc,
    period
  FROM headcount_monthly
  WHERE
    month >= :act_from
    AND month <= :to_month
    AND social_insurance_count > 0
    AND uscc IN (
      SELECT
        uscc
      FROM cand
    )
), cand_first AS (
  SELECT
    c.uscc,
    c.established_on,
    MIN(a.period) AS first_active
  FROM cand AS c
  LEFT JOIN act AS a
    ON a.uscc = c.uscc
  GROUP BY
    c.uscc,
    c.established_on
), new_shell AS (
  SELECT
    l.loan_id,
    c.uscc
  FROM loan AS l
  JOIN cand_first AS c
    ON c.established_on >= l.new_since
    AND c.established_on <= CAST(l.t_end AS DATE)
    AND (
      c.first_active IS NULL OR c.first_active > l.act_to
    )
    AND c.uscc <> l.borrower_uscc
), linked_shell AS (
  SELECT
    k.loan_id,
    k.uscc
  FROM linked AS k
  JOIN loan AS l
    ON l.loan_id = k.loan_id
  LEFT JOIN act AS a
    ON a.uscc = k.uscc AND a.period >= l.act_from AND a.period <= l.act_to
  WHERE
    k.uscc <> l.borrower_uscc
  GROUP BY
    k.loan_id,
    k.uscc
  HAVING
    COUNT(a.period) = 0
), shell AS (
  SELECT
    loan_id,
    uscc,
    MAX(is_new) AS is_new,
    MAX(is_linked) AS is_linked
  FROM (
    SELECT
      loan_id,
      uscc,
      1 AS is_new,
      0 AS is_linked
    FROM new_shell
    UNION ALL
    SELECT
      loan_id,
      uscc,
      0 AS is_new,
      1 AS is_linked
    FROM linked_shell
  ) AS u
  GROUP BY
    loan_id,
    uscc
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
UNION ALL
SELECT
  'shell',
  sh.loan_id,
  a.account_no,
  NULL,
  NULL,
  a.owner_id,
  a.owner_type,
  a.owner_name,
  a.category,
  sh.is_new,
  sh.is_linked
FROM shell AS sh
JOIN accounts AS a
  ON a.owner_id = sh.uscc
ORDER BY
  loan_id NULLS LAST,
  row_type NULLS LAST,
  account_no NULLS LAST,
  rel_rank NULLS LAST,
  rel_source NULLS LAST
