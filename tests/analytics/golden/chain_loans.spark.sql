/* Loans disbursed to the chain's members per month, (effective) segment, lending head office and term. An */
/* enterprise in two segments of the same chain is not possible (key chain_code, uscc; one override each); */
/* manufacturing = GB/T 4754 section C. */
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
)
SELECT
  l.month,
  m.segment,
  tree.head_code,
  h.name AS head_name,
  l.term_months,
  COALESCE(SUBSTRING(e.industry_code, 1, 1) = 'C', FALSE) AS manufacturing,
  COUNT(*) AS loan_count,
  COUNT(DISTINCT l.borrower_uscc) AS borrowers,
  CAST(SUM(l.amount) AS DECIMAL(38, 2)) AS total_amount
FROM loans AS l
JOIN effective_members AS m
  ON m.uscc = l.borrower_uscc AND m.chain_code = :chain_code
LEFT JOIN enterprises AS e
  ON e.uscc = l.borrower_uscc
LEFT JOIN tree
  ON tree.org_code = l.bank_code
LEFT JOIN banks AS h
  ON h.org_code = tree.head_code
WHERE
  l.month BETWEEN :from_month AND :to_month
GROUP BY
  1,
  2,
  3,
  4,
  5,
  6
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST,
  3 NULLS LAST,
  5 NULLS LAST,
  6 NULLS LAST
