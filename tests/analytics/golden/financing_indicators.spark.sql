WITH snapshot AS (
  SELECT
    *
  FROM financing_orders
  WHERE
    exported_at = :snapshot
    AND (
      :bank = '' OR bank_id = :bank
    )
    AND (
      :month = '' OR month = :month
    )
), latest AS (
  SELECT
    CASE :group_by
      WHEN 'bank'
      THEN bank_id
      WHEN 'branch'
      THEN branch_id
      WHEN 'outlet'
      THEN outlet_id
      WHEN 'manager'
      THEN manager_id
      WHEN 'district'
      THEN district_code
      WHEN 'industry'
      THEN industry_code
      WHEN 'chain'
      THEN chain_code
      ELSE month
    END AS group_key,
    *
  FROM snapshot
)
SELECT
  group_key,
  COUNT(*) AS orders,
  COUNT(contacted_on) AS contacted,
  CAST(COALESCE(SUM(contact_working_days), 0) AS BIGINT) AS contact_days,
  COUNT(accepted_on) AS accepted,
  COUNT(decided_on) AS decided,
  COUNT(amount_approved) AS approved,
  CAST(SUM(amount_requested) AS DECIMAL(38, 2)) AS amount_requested,
  CAST(COALESCE(SUM(amount_approved), 0) AS DECIMAL(38, 2)) AS amount_approved,
  CAST(COALESCE(SUM(decision_working_days), 0) AS BIGINT) AS decision_days,
  COUNT(decision_working_days) AS decision_count,
  CAST(SUM(
    CASE
      WHEN COALESCE(contacted_on, decided_on, closed_on, :as_of) > contact_due
      OR COALESCE(decided_on, closed_on, :as_of) > decision_due
      THEN 1
      ELSE 0
    END
  ) AS BIGINT) AS overdue
FROM latest
GROUP BY
  group_key
ORDER BY
  overdue DESC,
  group_key NULLS LAST
