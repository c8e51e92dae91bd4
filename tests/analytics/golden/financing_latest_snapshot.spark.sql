SELECT
  MAX(exported_at) AS exported_at,
  COUNT(*) AS snapshot_rows
FROM financing_orders
