/* `chain_loans` and `chain_member_borrowers` of one window in one statement (`part` 'loans' / 'borrowers'), */
/* so the chain page's first request plans the statement, reads the members, banks and the window's loans once, */
/* not once for its loans and again for its credit coverage (jinyu.chain.reads.loans_and_borrowers splits it; */
/* tests/chain/test_reads.py compares each part with the query of its own, run directly). `member_loans`: the */
/* window's loans to members of the chain (one row per loan: the membership key is chain code and USCC), with */
/* the borrower's effective segment. 'loans' rows are chain_loans' (`uscc` null); 'borrowers' rows carry only */
/* month and `uscc`, as chain_member_borrowers. */
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
), tree AS (
  SELECT
    b.org_code,
    COALESCE(p2.org_code, p1.org_code, b.org_code) AS head_code
  FROM banks AS b
  LEFT JOIN banks AS p1
    ON p1.org_code = b.parent_code
  LEFT JOIN banks AS p2
    ON p2.org_code = p1.parent_code
), member_loans AS (
  SELECT
    l.month,
    m.segment,
    l.bank_code,
    l.term_months,
    l.borrower_uscc,
    l.amount
  FROM loans AS l
  JOIN effective_members AS m
    ON m.uscc = l.borrower_uscc AND m.chain_code = :chain_code
  WHERE
    l.month BETWEEN :from_month AND :to_month
)
SELECT
  'loans' AS part,
  l.month,
  l.segment,
  tree.head_code,
  h.name AS head_name,
  l.term_months,
  COALESCE(SUBSTRING(e.industry_code, 1, 1) = 'C', FALSE) AS manufacturing,
  COUNT(*) AS loan_count,
  COUNT(DISTINCT l.borrower_uscc) AS borrowers,
  CAST(SUM(l.amount) AS DECIMAL(38, 2)) AS total_amount,
  CAST(NULL AS STRING) AS uscc
FROM member_loans AS l
LEFT JOIN enterprises AS e
  ON e.uscc = l.borrower_uscc
LEFT JOIN tree
  ON tree.org_code = l.bank_code
LEFT JOIN banks AS h
  ON h.org_code = tree.head_code
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6,
  7
UNION ALL
SELECT DISTINCT
  'borrowers' AS part,
  month,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  borrower_uscc AS uscc
FROM member_loans
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST,
  4 NULLS LAST,
  6 NULLS LAST,
  7 NULLS LAST,
  11 NULLS LAST
