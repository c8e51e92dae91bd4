/* The links of one build of one chain's network as of a month with their dense node ids (the marker row left */
/* out): the arrays a stored month is ranked from. The build is named by its `built_at`, which the caller has */
/* from `chain_network_stamp` (the key of the ranking), so the links read are those of that key even should a */
/* rebuild land in between. A filtered scan, no join and no ORDER BY: a build's file is written sorted by */
/* (payer, payee), which is the ids' order, and the ranking checks the order in one pass and sorts only if the */
/* rows do not come in it (`network.sorted_links`; the ranking is the same either way). Only for a lake whose */
/* builds carry the ids (`stored.carries_ids`); empty when that build found no links. */
SELECT
  payer,
  payee,
  weight,
  payer_id,
  payee_id,
  built_at
FROM chain_network_links
WHERE
  month = :as_of_month
  AND chain_code = :chain_code
  AND built_at = :built_at
  AND NOT payer IS NULL
