/* Members per segment and how many of them borrowed in the window (coverage = borrowers / members). */
SELECT
  m.segment,
  COUNT(*) AS members,
  COUNT(
    CASE
      WHEN m.uscc IN (
        SELECT
          borrower_uscc
        FROM loans
        WHERE
          month BETWEEN :from_month AND :to_month
      )
      THEN 1
    END
  ) AS members_with_credit
FROM chain_members AS m
WHERE
  m.chain_code = :chain_code
GROUP BY
  m.segment
ORDER BY
  m.segment NULLS LAST
