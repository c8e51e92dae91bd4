SELECT
  a.account_no,
  a.category,
  a.bank_code,
  bk.parent_code
FROM accounts AS a
LEFT JOIN banks AS bk
  ON bk.org_code = a.bank_code
WHERE
  a.category IN (
    'payment_processor',
    'bank_internal',
    'tax_authority',
    'social_fund',
    'securities_settlement',
    'real_estate_developer',
    'loan_repayment'
  )
ORDER BY
  a.account_no NULLS LAST
