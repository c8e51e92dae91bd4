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
    e.phone
  FROM loan AS l
  JOIN enterprises AS e
    ON e.uscc = l.borrower_uscc
), rel_owner AS (
  SELECT
    loan_id,
    uscc AS owner_id,
    1 AS rel_rank
  FROM borrower
  UNION ALL
  SELECT
    loan_id,
    legal_rep_id,
    2
  FROM borrower
  UNION ALL
  SELECT
    b.loan_id,
    s.holder_id,
    3
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.uscc = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    4
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    5
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.legal_rep_id = b.legal_rep_id AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s.uscc,
    6
  FROM borrower AS b
  JOIN shareholders AS s
    ON s.holder_id = b.legal_rep_id AND s.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    s2.uscc,
    7
  FROM borrower AS b
  JOIN shareholders AS s1
    ON s1.uscc = b.uscc AND s1.holder_type = 'enterprise'
  JOIN shareholders AS s2
    ON s2.holder_id = s1.holder_id AND s2.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    8
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.address = b.address AND e.uscc <> b.uscc
  UNION ALL
  SELECT
    b.loan_id,
    e.uscc,
    9
  FROM borrower AS b
  JOIN enterprises AS e
    ON e.phone = b.phone AND e.uscc <> b.uscc
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
), special AS (
  SELECT
    a.account_no,
    a.category,
    a.owner_id,
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
    OR a.owner_id IN (
      SELECT
        owner_id
      FROM rel_owner
    )
    OR a.owner_id IN (
      SELECT
        uscc
      FROM cand
    )
), rel_acct AS (
  SELECT
    r.loan_id,
    s.account_no,
    MIN(r.rel_rank) AS rel_rank
  FROM rel_owner AS r
  JOIN special AS s
    ON s.owner_id = r.owner_id
  GROUP BY
    r.loan_id,
    s.account_no
), shell_acct AS (
  SELECT
    sh.loan_id,
    s.account_no,
    sh.is_new,
    sh.is_linked
  FROM shell AS sh
  JOIN special AS s
    ON s.owner_id = sh.uscc
), f0 AS (
  SELECT
    loan_id,
    disbursement_account AS account,
    amount_fen AS traced,
    disbursed_at AS arrived,
    t_end,
    1 AS own
  FROM loan
), o1 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f0 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub1 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o1 AS o
  GROUP BY
    o.loan_id,
    o.src
), w1 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o1 AS o
  JOIN hub1 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p1 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w1
), c1 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p1
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen1 AS (
  SELECT
    loan_id,
    account
  FROM f0
), n1 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c1 AS c
  LEFT JOIN seen1 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), f1 AS (
  SELECT
    n.loan_id,
    n.account,
    n.traced,
    n.arrived,
    l.t_end,
    n.own
  FROM n1 AS n
  JOIN loan AS l
    ON l.loan_id = n.loan_id
  WHERE
    1 < :max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= :dust_fen
), r1 AS (
  SELECT
    f.loan_id,
    0 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f0 AS f
  LEFT JOIN hub1 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p1
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), o2 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f1 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub2 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o2 AS o
  GROUP BY
    o.loan_id,
    o.src
), w2 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o2 AS o
  JOIN hub2 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p2 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w2
), c2 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p2
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen2 AS (
  SELECT
    loan_id,
    account
  FROM f0
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f1
), n2 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c2 AS c
  LEFT JOIN seen2 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), f2 AS (
  SELECT
    n.loan_id,
    n.account,
    n.traced,
    n.arrived,
    l.t_end,
    n.own
  FROM n2 AS n
  JOIN loan AS l
    ON l.loan_id = n.loan_id
  WHERE
    2 < :max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= :dust_fen
), r2 AS (
  SELECT
    f.loan_id,
    1 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f1 AS f
  LEFT JOIN hub2 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p2
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), o3 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f2 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub3 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o3 AS o
  GROUP BY
    o.loan_id,
    o.src
), w3 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o3 AS o
  JOIN hub3 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p3 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w3
), c3 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p3
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen3 AS (
  SELECT
    loan_id,
    account
  FROM f0
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f1
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f2
), n3 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c3 AS c
  LEFT JOIN seen3 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), f3 AS (
  SELECT
    n.loan_id,
    n.account,
    n.traced,
    n.arrived,
    l.t_end,
    n.own
  FROM n3 AS n
  JOIN loan AS l
    ON l.loan_id = n.loan_id
  WHERE
    3 < :max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= :dust_fen
), r3 AS (
  SELECT
    f.loan_id,
    2 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f2 AS f
  LEFT JOIN hub3 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p3
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), o4 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f3 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub4 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o4 AS o
  GROUP BY
    o.loan_id,
    o.src
), w4 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o4 AS o
  JOIN hub4 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p4 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w4
), c4 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p4
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen4 AS (
  SELECT
    loan_id,
    account
  FROM f0
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f1
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f2
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f3
), n4 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c4 AS c
  LEFT JOIN seen4 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), f4 AS (
  SELECT
    n.loan_id,
    n.account,
    n.traced,
    n.arrived,
    l.t_end,
    n.own
  FROM n4 AS n
  JOIN loan AS l
    ON l.loan_id = n.loan_id
  WHERE
    4 < :max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= :dust_fen
), r4 AS (
  SELECT
    f.loan_id,
    3 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f3 AS f
  LEFT JOIN hub4 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p4
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), o5 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f4 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub5 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o5 AS o
  GROUP BY
    o.loan_id,
    o.src
), w5 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o5 AS o
  JOIN hub5 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p5 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w5
), c5 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p5
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen5 AS (
  SELECT
    loan_id,
    account
  FROM f0
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f1
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f2
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f3
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f4
), n5 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c5 AS c
  LEFT JOIN seen5 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), f5 AS (
  SELECT
    n.loan_id,
    n.account,
    n.traced,
    n.arrived,
    l.t_end,
    n.own
  FROM n5 AS n
  JOIN loan AS l
    ON l.loan_id = n.loan_id
  WHERE
    5 < :max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= :dust_fen
), r5 AS (
  SELECT
    f.loan_id,
    4 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f4 AS f
  LEFT JOIN hub5 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p5
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), o6 AS (
  SELECT
    f.loan_id,
    f.account AS src,
    f.traced,
    f.own AS src_own,
    t.txn_id,
    t.ts,
    t.to_account AS dst,
    CAST(t.amount * 100 AS BIGINT) AS amt
  FROM f5 AS f
  JOIN transfers AS t
    ON t.from_account = f.account
  WHERE
    t.month >= :from_month
    AND t.month <= :to_month
    AND t.ts > f.arrived
    AND t.ts <= f.t_end
), hub6 AS (
  SELECT
    o.loan_id,
    o.src,
    COUNT(*) AS out_n,
    CAST(SUM(o.amt) AS BIGINT) AS out_total
  FROM o6 AS o
  GROUP BY
    o.loan_id,
    o.src
), w6 AS (
  SELECT
    o.loan_id,
    o.src,
    o.src_own,
    o.dst,
    o.ts,
    o.amt,
    o.traced,
    COALESCE(
      SUM(o.amt) OVER (
        PARTITION BY o.loan_id, o.src
        ORDER BY o.ts NULLS LAST, o.txn_id NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS before
  FROM o6 AS o
  JOIN hub6 AS hb
    ON hb.loan_id = o.loan_id AND hb.src = o.src
  WHERE
    hb.out_n < :hub_degree OR o.src_own = 1
), p6 AS (
  SELECT
    loan_id,
    src,
    src_own,
    dst,
    ts,
    GREATEST(0, LEAST(amt, traced - before)) AS part
  FROM w6
), c6 AS (
  SELECT
    e.loan_id,
    e.src,
    e.dst,
    e.traced,
    e.first_ts,
    e.last_ts,
    e.txn_count,
    CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
    CASE
      WHEN s.category = 'securities_settlement'
      THEN 'securities'
      WHEN s.category = 'real_estate_developer'
      THEN 'real_estate'
      WHEN s.category = 'loan_repayment'
      AND e.src_own = 1
      AND (
        s.bank_code = l.bank_code OR s.parent_code = l.bank_code
      )
      THEN 'servicing'
      WHEN s.category = 'loan_repayment' AND NOT rs.rel_rank IS NULL
      THEN 'other_loan'
      WHEN s.category = 'loan_repayment'
      THEN 'stop'
      WHEN s.category IN ('payment_processor', 'bank_internal', 'tax_authority', 'social_fund')
      THEN 'stop'
      WHEN NOT sh.account_no IS NULL AND COALESCE(rd.rel_rank, 0) <> 1
      THEN 'shell'
      ELSE 'pass'
    END AS kind
  FROM (
    SELECT
      loan_id,
      src,
      MAX(src_own) AS src_own,
      dst,
      CAST(SUM(part) AS BIGINT) AS traced,
      MIN(ts) AS first_ts,
      MAX(ts) AS last_ts,
      COUNT(*) AS txn_count
    FROM p6
    WHERE
      part > 0
    GROUP BY
      loan_id,
      src,
      dst
  ) AS e
  JOIN loan AS l
    ON l.loan_id = e.loan_id
  LEFT JOIN special AS s
    ON s.account_no = e.dst
  LEFT JOIN rel_acct AS rd
    ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
  LEFT JOIN rel_acct AS rs
    ON rs.loan_id = e.loan_id AND rs.account_no = e.src
  LEFT JOIN shell_acct AS sh
    ON sh.loan_id = e.loan_id AND sh.account_no = e.dst
), seen6 AS (
  SELECT
    loan_id,
    account
  FROM f0
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f1
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f2
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f3
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f4
  UNION ALL
  SELECT
    loan_id,
    account
  FROM f5
), n6 AS (
  SELECT
    c.loan_id,
    c.dst AS account,
    c.kind,
    CAST(SUM(c.traced) AS BIGINT) AS traced,
    MIN(c.first_ts) AS arrived,
    MAX(c.last_ts) AS last_ts,
    CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
    MAX(c.own) AS own,
    MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
  FROM c6 AS c
  LEFT JOIN seen6 AS sn
    ON sn.loan_id = c.loan_id AND sn.account = c.dst
  GROUP BY
    c.loan_id,
    c.dst,
    c.kind
), r6 AS (
  SELECT
    f.loan_id,
    5 AS hop,
    f.account,
    CASE WHEN hb.out_n >= :hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
    CASE
      WHEN hb.out_n >= :hub_degree AND f.own = 0
      THEN f.traced
      ELSE f.traced - COALESCE(x.out_traced, 0)
    END AS traced,
    f.arrived
  FROM f5 AS f
  LEFT JOIN hub6 AS hb
    ON hb.loan_id = f.loan_id AND hb.src = f.account
  LEFT JOIN (
    SELECT
      loan_id,
      src,
      CAST(SUM(part) AS BIGINT) AS out_traced
    FROM p6
    GROUP BY
      loan_id,
      src
  ) AS x
    ON x.loan_id = f.loan_id AND x.src = f.account
), nodes AS (
  SELECT
    loan_id,
    0 AS hop,
    account,
    'origin' AS kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM f0
  UNION ALL
  SELECT
    n.loan_id,
    1 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 1 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n1 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r1
  WHERE
    traced > 0
  UNION ALL
  SELECT
    n.loan_id,
    2 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 2 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n2 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r2
  WHERE
    traced > 0
  UNION ALL
  SELECT
    n.loan_id,
    3 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 3 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n3 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r3
  WHERE
    traced > 0
  UNION ALL
  SELECT
    n.loan_id,
    4 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 4 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n4 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r4
  WHERE
    traced > 0
  UNION ALL
  SELECT
    n.loan_id,
    5 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 5 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n5 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r5
  WHERE
    traced > 0
  UNION ALL
  SELECT
    n.loan_id,
    6 AS hop,
    n.account,
    CASE
      WHEN n.traced < :dust_fen
      THEN 'dust'
      WHEN n.kind <> 'pass'
      THEN n.kind
      WHEN n.seen = 1
      THEN 'cycle'
      WHEN 6 >= :max_hops
      THEN 'open'
      ELSE 'pass'
    END AS kind,
    n.traced,
    n.arrived,
    n.last_ts,
    n.txn_count
  FROM n6 AS n
  UNION ALL
  SELECT
    loan_id,
    hop,
    account,
    kind,
    traced,
    arrived,
    arrived AS last_ts,
    CAST(0 AS BIGINT) AS txn_count
  FROM r6
  WHERE
    traced > 0
)
SELECT
  loan_id,
  hop,
  kind,
  CAST(SUM(traced) AS BIGINT) AS traced,
  MIN(arrived) AS first_ts,
  COUNT(*) AS nodes
FROM nodes
WHERE
  kind <> 'pass'
GROUP BY
  loan_id,
  hop,
  kind
ORDER BY
  loan_id NULLS LAST,
  hop NULLS LAST,
  kind NULLS LAST
