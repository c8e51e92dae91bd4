/* The chain's members that borrowed, per month of the window (one row per member and month with any loan): */
/* `chain_credit_coverage` of a window counts, per segment, the members among the window's months' rows */
/* (jinyu.chain.reads counts it so for the chain page; tests/chain/test_reads.py compares the two). */
SELECT DISTINCT
  l.month,
  l.borrower_uscc AS uscc
FROM loans AS l
WHERE
  l.month BETWEEN :from_month AND :to_month
  AND l.borrower_uscc IN (
    SELECT
      uscc
    FROM chain_members
    WHERE
      chain_code = :chain_code
  )
ORDER BY
  1 NULLS LAST,
  2 NULLS LAST
