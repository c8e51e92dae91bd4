WITH u AS (
  SELECT
    uscc
  FROM enterprises
  UNION
  SELECT
    uscc
  FROM shareholders
  UNION
  SELECT
    uscc
  FROM registration_changes
  UNION
  SELECT
    uscc
  FROM tax_monthly
  UNION
  SELECT
    uscc
  FROM tax_credit_ratings
  UNION
  SELECT
    uscc
  FROM headcount_monthly
  UNION
  SELECT
    uscc
  FROM patents
  UNION
  SELECT
    uscc
  FROM trademarks
  UNION
  SELECT
    uscc
  FROM copyrights
  UNION
  SELECT
    uscc
  FROM judicial
  UNION
  SELECT
    uscc
  FROM dishonest_debtors
  UNION
  SELECT
    uscc
  FROM admin_penalties
  UNION
  SELECT
    uscc
  FROM source_coverage
), rcov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'registration' AND covered
), e AS (
  SELECT
    rcov.uscc,
    x.name,
    x.status,
    x.registered_capital,
    x.established_on,
    x.industry_code,
    x.district_code,
    x.address,
    x.legal_rep_name
  FROM rcov
  JOIN enterprises AS x
    ON x.uscc = rcov.uscc
), ch AS (
  SELECT
    rcov.uscc,
    x.changed_on,
    x.item,
    x.before_value,
    x.after_value,
    rcov.d12,
    rcov.d36,
    ROW_NUMBER() OVER (PARTITION BY rcov.uscc ORDER BY x.changed_on DESC, x.item DESC) AS k
  FROM rcov
  JOIN registration_changes AS x
    ON x.uscc = rcov.uscc AND x.changed_on <= rcov.a
), chn AS (
  SELECT
    uscc,
    COUNT(CASE WHEN changed_on > d12 THEN 1 END) AS c12,
    COUNT(CASE WHEN changed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN changed_on > d36 AND item = 'legal_rep' THEN 1 END) AS lr36
  FROM ch
  GROUP BY
    uscc
), sh AS (
  SELECT
    e.uscc,
    x.holder_type,
    x.holder_name,
    x.share_ratio,
    ROW_NUMBER() OVER (
      PARTITION BY e.uscc
      ORDER BY x.share_ratio DESC, COALESCE(x.holder_name, '') ASC NULLS LAST, COALESCE(x.holder_type, '') ASC NULLS LAST
    ) AS k
  FROM e
  JOIN shareholders AS x
    ON x.uscc = e.uscc
), reg_holders AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"holder_type":',
                    COALESCE(
                      CASE
                        WHEN holder_type IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(holder_type, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"name":',
                    COALESCE(
                      CASE
                        WHEN holder_name IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(holder_name, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"share_ratio":',
                    COALESCE(
                      CASE
                        WHEN share_ratio IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(share_ratio AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM sh
  GROUP BY
    uscc
), reg_changes AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"after":',
                    COALESCE(
                      CASE
                        WHEN after_value IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(after_value, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"before":',
                    COALESCE(
                      CASE
                        WHEN before_value IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(before_value, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"changed_on":',
                    COALESCE(
                      CASE
                        WHEN changed_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(changed_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"item":',
                    COALESCE(
                      CASE
                        WHEN item IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(item, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM ch
  WHERE
    k <= 10
  GROUP BY
    uscc
), tcov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'tax' AND covered
), t AS (
  SELECT
    tcov.uscc,
    x.period,
    x.tax_paid,
    x.sales_declared,
    x.period >= tcov.f12 AS in12,
    x.period >= tcov.f24 AND x.period < tcov.f12 AS inprev,
    x.period >= tcov.f24 AS shown
  FROM tcov
  JOIN tax_monthly AS x
    ON x.uscc = tcov.uscc AND x.period <= tcov.m
), ts AS (
  SELECT
    tcov.uscc,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paid12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paidprev,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS sales12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS salesprev,
    COUNT(CASE WHEN t.in12 THEN 1 END) AS filed12,
    COUNT(CASE WHEN t.in12 AND t.sales_declared = 0 THEN 1 END) AS zero12
  FROM tcov
  LEFT JOIN t
    ON t.uscc = tcov.uscc
  GROUP BY
    tcov.uscc
), tr AS (
  SELECT
    tcov.uscc,
    x.year,
    x.rating,
    x.rated_on
  FROM tcov
  JOIN tax_credit_ratings AS x
    ON x.uscc = tcov.uscc AND x.rated_on <= tcov.a
), tax_months AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  period AS k,
                  CONCAT(
                    '{"period":',
                    COALESCE(
                      CASE
                        WHEN period IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(period AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"sales_declared":',
                    COALESCE(
                      CASE
                        WHEN sales_declared IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(sales_declared AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"tax_paid":',
                    COALESCE(
                      CASE
                        WHEN tax_paid IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(tax_paid AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM t
  WHERE
    shown
  GROUP BY
    uscc
), tax_ratings AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  -CAST(year AS BIGINT) AS k,
                  CONCAT(
                    '{"rated_on":',
                    COALESCE(
                      CASE
                        WHEN rated_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(rated_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"rating":',
                    COALESCE(
                      CASE
                        WHEN rating IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(rating, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"year":',
                    COALESCE(COALESCE(CAST(year AS STRING), 'null'), ''),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value,
    MAX_BY(rating, year) AS latest
  FROM tr
  GROUP BY
    uscc
), hcov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'headcount' AND covered
), h AS (
  SELECT
    hcov.uscc,
    x.period,
    CAST(x.social_insurance_count AS BIGINT) AS si,
    CAST(x.provident_fund_count AS BIGINT) AS pf,
    x.period >= DATE_FORMAT(hcov.a - INTERVAL '23' MONTH, 'yyyy-MM') AS shown
  FROM hcov
  JOIN headcount_monthly AS x
    ON x.uscc = hcov.uscc AND x.period <= hcov.m
), hm AS (
  SELECT
    uscc,
    MAX(period) AS latest
  FROM h
  GROUP BY
    uscc
), hy AS (
  SELECT
    hm.uscc,
    cur.period,
    cur.si,
    cur.pf,
    b.si AS si_ago,
    b.pf AS pf_ago
  FROM hm
  JOIN h AS cur
    ON cur.uscc = hm.uscc AND cur.period = hm.latest
  LEFT JOIN h AS b
    ON b.uscc = hm.uscc
    AND b.period = DATE_FORMAT(CAST(hm.latest || '-01' AS DATE) - INTERVAL '12' MONTH, 'yyyy-MM')
), headcount_months AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  period AS k,
                  CONCAT(
                    '{"period":',
                    COALESCE(
                      CASE
                        WHEN period IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(period AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"provident_fund":',
                    COALESCE(COALESCE(CAST(pf AS STRING), 'null'), ''),
                    ',"social_insurance":',
                    COALESCE(COALESCE(CAST(si AS STRING), 'null'), ''),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM h
  WHERE
    shown
  GROUP BY
    uscc
), icov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'ip' AND covered
), ipa AS (
  SELECT
    icov.uscc,
    x.kind,
    NOT x.granted_on IS NULL AND x.granted_on <= icov.a AS granted
  FROM icov
  JOIN patents AS x
    ON x.uscc = icov.uscc AND x.filed_on <= icov.a
), itm AS (
  SELECT
    icov.uscc,
    NOT x.registered_on IS NULL AND x.registered_on <= icov.a AS granted
  FROM icov
  JOIN trademarks AS x
    ON x.uscc = icov.uscc AND x.applied_on <= icov.a
), icp AS (
  SELECT
    icov.uscc,
    x.kind
  FROM icov
  JOIN copyrights AS x
    ON x.uscc = icov.uscc AND x.registered_on <= icov.a
), ev AS (
  SELECT
    icov.uscc,
    x.granted_on AS d,
    'patent:' || x.kind AS kind,
    x.title,
    x.patent_no AS no,
    icov.d12
  FROM icov
  JOIN patents AS x
    ON x.uscc = icov.uscc
    AND x.filed_on <= icov.a
    AND NOT x.granted_on IS NULL
    AND x.granted_on <= icov.a
  UNION ALL
  SELECT
    icov.uscc,
    x.registered_on,
    'trademark',
    x.mark_name,
    x.reg_no,
    icov.d12
  FROM icov
  JOIN trademarks AS x
    ON x.uscc = icov.uscc
    AND x.applied_on <= icov.a
    AND NOT x.registered_on IS NULL
    AND x.registered_on <= icov.a
  UNION ALL
  SELECT
    icov.uscc,
    x.registered_on,
    'copyright:' || x.kind,
    x.title,
    x.reg_no,
    icov.d12
  FROM icov
  JOIN copyrights AS x
    ON x.uscc = icov.uscc AND x.registered_on <= icov.a
), evr AS (
  SELECT
    ev.*,
    ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY d DESC, no DESC) AS k
  FROM ev
), pc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN kind = 'invention' AND granted THEN 1 END) AS invention_granted,
    COUNT(CASE WHEN kind = 'invention' AND NOT granted THEN 1 END) AS invention_pending,
    COUNT(CASE WHEN kind = 'utility_model' AND granted THEN 1 END) AS utility_model_granted,
    COUNT(CASE WHEN kind = 'utility_model' AND NOT granted THEN 1 END) AS utility_model_pending,
    COUNT(CASE WHEN kind = 'design' AND granted THEN 1 END) AS design_granted,
    COUNT(CASE WHEN kind = 'design' AND NOT granted THEN 1 END) AS design_pending
  FROM ipa
  GROUP BY
    uscc
), tc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN granted THEN 1 END) AS registered,
    COUNT(CASE WHEN NOT granted THEN 1 END) AS pending
  FROM itm
  GROUP BY
    uscc
), cc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN kind = 'software' THEN 1 END) AS software,
    COUNT(CASE WHEN kind = 'work' THEN 1 END) AS work
  FROM icp
  GROUP BY
    uscc
), gc AS (
  SELECT
    uscc,
    COUNT(CASE WHEN d > d12 THEN 1 END) AS grants
  FROM ev
  GROUP BY
    uscc
), ip_recent AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"kind":',
                    COALESCE(
                      CASE
                        WHEN kind IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(kind, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"number":',
                    COALESCE(
                      CASE
                        WHEN no IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(no, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"on":',
                    COALESCE(
                      CASE
                        WHEN d IS NULL
                        THEN 'null'
                        ELSE CONCAT(COALESCE(CHR(  34), ''), COALESCE(CAST(d AS STRING), ''), COALESCE(CHR(  34), ''))
                      END,
                      ''
                    ),
                    ',"title":',
                    COALESCE(
                      CASE
                        WHEN title IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(title, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM evr
  WHERE
    k <= 10
  GROUP BY
    uscc
), jcov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'judicial' AND covered
), cs AS (
  SELECT
    jcov.uscc,
    x.case_no,
    x.case_type,
    x.role,
    x.filed_on,
    x.amount,
    x.status,
    jcov.d36,
    ROW_NUMBER() OVER (PARTITION BY jcov.uscc ORDER BY x.filed_on DESC, x.case_no DESC) AS k
  FROM jcov
  JOIN judicial AS x
    ON x.uscc = jcov.uscc AND x.filed_on <= jcov.a
), dl AS (
  SELECT
    jcov.uscc,
    x.case_no,
    x.court,
    x.amount,
    x.listed_on,
    x.removed_on,
    x.removed_on IS NULL OR x.removed_on > jcov.a AS listed_now,
    ROW_NUMBER() OVER (PARTITION BY jcov.uscc ORDER BY x.listed_on DESC, x.case_no DESC) AS k
  FROM jcov
  JOIN dishonest_debtors AS x
    ON x.uscc = jcov.uscc AND x.listed_on <= jcov.a
), ca AS (
  SELECT
    uscc,
    COUNT(CASE WHEN status = 'open' THEN 1 END) AS open_n,
    SUM(CASE WHEN status = 'open' THEN amount END) AS open_amount,
    COUNT(CASE WHEN filed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN filed_on > d36 AND role IN ('defendant', 'executed') THEN 1 END) AS def36,
    MIN(CASE WHEN status = 'open' AND case_type = 'enforcement' THEN filed_on END) AS enforcement_since,
    MIN(
      CASE
        WHEN status = 'open' AND case_type = 'loan' AND role = 'defendant'
        THEN filed_on
      END
    ) AS loan_since
  FROM cs
  GROUP BY
    uscc
), da AS (
  SELECT
    uscc,
    MIN(CASE WHEN listed_now THEN listed_on END) AS listed_since
  FROM dl
  GROUP BY
    uscc
), jud_listings AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"amount":',
                    COALESCE(
                      CASE
                        WHEN amount IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(amount AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"case_no":',
                    COALESCE(
                      CASE
                        WHEN case_no IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(case_no, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"court":',
                    COALESCE(
                      CASE
                        WHEN court IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(court, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"listed_on":',
                    COALESCE(
                      CASE
                        WHEN listed_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(listed_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"removed_on":',
                    COALESCE(
                      CASE
                        WHEN removed_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(removed_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM dl
  GROUP BY
    uscc
), jud_cases AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"amount":',
                    COALESCE(
                      CASE
                        WHEN amount IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(amount AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"case_no":',
                    COALESCE(
                      CASE
                        WHEN case_no IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(case_no, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"case_type":',
                    COALESCE(
                      CASE
                        WHEN case_type IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(case_type, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"filed_on":',
                    COALESCE(
                      CASE
                        WHEN filed_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(filed_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"role":',
                    COALESCE(
                      CASE
                        WHEN role IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(REPLACE(role, CHR(  92), CHR(  92) || CHR(  92)), CHR(  34), CHR(  92) || CHR(  34)),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"status":',
                    COALESCE(
                      CASE
                        WHEN status IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(status, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM cs
  WHERE
    k <= 10
  GROUP BY
    uscc
), pcov AS (
  SELECT
    uscc,
    as_of AS a,
    DATE_FORMAT(as_of, 'yyyy-MM') AS m,
    DATE_FORMAT(as_of - INTERVAL '11' MONTH, 'yyyy-MM') AS f12,
    DATE_FORMAT(as_of - INTERVAL '23' MONTH, 'yyyy-MM') AS f24,
    CAST(as_of - INTERVAL '12' MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL '36' MONTH AS DATE) AS d36
  FROM source_coverage
  WHERE
    source = 'penalties' AND covered
), pe AS (
  SELECT
    pcov.uscc,
    x.penalty_type,
    x.decided_on,
    x.amount,
    x.authority,
    x.decision_no,
    x.reason,
    pcov.d36,
    ROW_NUMBER() OVER (PARTITION BY pcov.uscc ORDER BY x.decided_on DESC, x.decision_no DESC) AS k
  FROM pcov
  JOIN admin_penalties AS x
    ON x.uscc = pcov.uscc AND x.decided_on <= pcov.a
), pa AS (
  SELECT
    uscc,
    COUNT(CASE WHEN decided_on > d36 THEN 1 END) AS n36,
    SUM(CASE WHEN decided_on > d36 THEN amount END) AS amount36,
    MAX(decided_on) AS latest,
    MIN(
      CASE
        WHEN decided_on > d36
        AND penalty_type IN ('confiscation', 'license_revoked', 'suspension')
        THEN decided_on
      END
    ) AS severe_since
  FROM pe
  GROUP BY
    uscc
), pen_items AS (
  SELECT
    uscc,
    CONCAT(
      '[',
      COALESCE(
        ARRAY_JOIN(
          TRANSFORM(
            ARRAY_SORT(
              COLLECT_LIST(
                STRUCT(
                  k AS k,
                  CONCAT(
                    '{"amount":',
                    COALESCE(
                      CASE
                        WHEN amount IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(amount AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"authority":',
                    COALESCE(
                      CASE
                        WHEN authority IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(authority, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"decided_on":',
                    COALESCE(
                      CASE
                        WHEN decided_on IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(CAST(decided_on AS STRING), ''),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"decision_no":',
                    COALESCE(
                      CASE
                        WHEN decision_no IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(decision_no, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"penalty_type":',
                    COALESCE(
                      CASE
                        WHEN penalty_type IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(penalty_type, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    ',"reason":',
                    COALESCE(
                      CASE
                        WHEN reason IS NULL
                        THEN 'null'
                        ELSE CONCAT(
                          COALESCE(CHR(  34), ''),
                          COALESCE(
                            REPLACE(
                              REPLACE(reason, CHR(  92), CHR(  92) || CHR(  92)),
                              CHR(  34),
                              CHR(  92) || CHR(  34)
                            ),
                            ''
                          ),
                          COALESCE(CHR(  34), '')
                        )
                      END,
                      ''
                    ),
                    '}'
                  ) AS v
                )
              )
            ),
            pair -> pair.v
          ),
          ','
        ),
        ''
      ),
      ']'
    ) AS value
  FROM pe
  WHERE
    k <= 10
  GROUP BY
    uscc
), registration_data AS (
  SELECT
    e.uscc,
    CONCAT(
      '{"address":',
      COALESCE(
        CASE
          WHEN e.address IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.address, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"changes":',
      COALESCE(COALESCE(reg_changes.value, '[]'), ''),
      ',"changes_12m":',
      COALESCE(COALESCE(CAST(COALESCE(chn.c12, 0) AS STRING), 'null'), ''),
      ',"changes_36m":',
      COALESCE(COALESCE(CAST(COALESCE(chn.c36, 0) AS STRING), 'null'), ''),
      ',"district_code":',
      COALESCE(
        CASE
          WHEN e.district_code IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.district_code, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"established_on":',
      COALESCE(
        CASE
          WHEN e.established_on IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(e.established_on AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"industry_code":',
      COALESCE(
        CASE
          WHEN e.industry_code IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.industry_code, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"legal_rep_changes_36m":',
      COALESCE(COALESCE(CAST(COALESCE(chn.lr36, 0) AS STRING), 'null'), ''),
      ',"legal_rep_name":',
      COALESCE(
        CASE
          WHEN e.legal_rep_name IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.legal_rep_name, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"name":',
      COALESCE(
        CASE
          WHEN e.name IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.name, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"registered_capital":',
      COALESCE(
        CASE
          WHEN e.registered_capital IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(e.registered_capital AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"shareholders":',
      COALESCE(COALESCE(reg_holders.value, '[]'), ''),
      ',"status":',
      COALESCE(
        CASE
          WHEN e.status IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(e.status, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      '}'
    ) AS data
  FROM e
  LEFT JOIN chn
    ON chn.uscc = e.uscc
  LEFT JOIN reg_holders
    ON reg_holders.uscc = e.uscc
  LEFT JOIN reg_changes
    ON reg_changes.uscc = e.uscc
), tax_data AS (
  SELECT
    ts.uscc,
    CONCAT(
      '{"latest_rating":',
      COALESCE(
        CASE
          WHEN tax_ratings.latest IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(
              REPLACE(
                REPLACE(tax_ratings.latest, CHR(  92), CHR(  92) || CHR(  92)),
                CHR(  34),
                CHR(  92) || CHR(  34)
              ),
              ''
            ),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"months":',
      COALESCE(COALESCE(tax_months.value, '[]'), ''),
      ',"months_filed_12m":',
      COALESCE(COALESCE(CAST(ts.filed12 AS STRING), 'null'), ''),
      ',"ratings":',
      COALESCE(COALESCE(tax_ratings.value, '[]'), ''),
      ',"sales_12m":',
      COALESCE(
        CASE
          WHEN ts.sales12 IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(ts.sales12 AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"sales_growth":',
      'null',
      ',"sales_prev_12m":',
      COALESCE(
        CASE
          WHEN ts.salesprev IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(ts.salesprev AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"tax_paid_12m":',
      COALESCE(
        CASE
          WHEN ts.paid12 IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(ts.paid12 AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"tax_paid_growth":',
      'null',
      ',"tax_paid_prev_12m":',
      COALESCE(
        CASE
          WHEN ts.paidprev IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(ts.paidprev AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"zero_sales_months_12m":',
      COALESCE(COALESCE(CAST(ts.zero12 AS STRING), 'null'), ''),
      '}'
    ) AS data,
    ts.paid12,
    ts.paidprev,
    ts.sales12,
    ts.salesprev
  FROM ts
  LEFT JOIN tax_months
    ON tax_months.uscc = ts.uscc
  LEFT JOIN tax_ratings
    ON tax_ratings.uscc = ts.uscc
), headcount_data AS (
  SELECT
    hcov.uscc,
    CONCAT(
      '{"latest_period":',
      COALESCE(
        CASE
          WHEN hy.period IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(hy.period AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"months":',
      COALESCE(COALESCE(headcount_months.value, '[]'), ''),
      ',"provident_fund_change_12m":',
      COALESCE(COALESCE(CAST(hy.pf - hy.pf_ago AS STRING), 'null'), ''),
      ',"provident_fund_latest":',
      COALESCE(COALESCE(CAST(hy.pf AS STRING), 'null'), ''),
      ',"social_insurance_12m_ago":',
      COALESCE(COALESCE(CAST(hy.si_ago AS STRING), 'null'), ''),
      ',"social_insurance_change_12m":',
      COALESCE(COALESCE(CAST(hy.si - hy.si_ago AS STRING), 'null'), ''),
      ',"social_insurance_latest":',
      COALESCE(COALESCE(CAST(hy.si AS STRING), 'null'), ''),
      '}'
    ) AS data
  FROM hcov
  LEFT JOIN hy
    ON hy.uscc = hcov.uscc
  LEFT JOIN headcount_months
    ON headcount_months.uscc = hcov.uscc
), ip_data AS (
  SELECT
    icov.uscc,
    CONCAT(
      '{"copyrights":',
      COALESCE(
        CONCAT(
          '{"software":',
          COALESCE(COALESCE(CAST(COALESCE(cc.software, 0) AS STRING), 'null'), ''),
          ',"work":',
          COALESCE(COALESCE(CAST(COALESCE(cc.work, 0) AS STRING), 'null'), ''),
          '}'
        ),
        ''
      ),
      ',"grants_12m":',
      COALESCE(COALESCE(CAST(COALESCE(gc.grants, 0) AS STRING), 'null'), ''),
      ',"patents":',
      COALESCE(
        CONCAT(
          '{"design":',
          COALESCE(
            CONCAT(
              '{"granted":',
              COALESCE(COALESCE(CAST(COALESCE(pc.design_granted, 0) AS STRING), 'null'), ''),
              ',"pending":',
              COALESCE(COALESCE(CAST(COALESCE(pc.design_pending, 0) AS STRING), 'null'), ''),
              '}'
            ),
            ''
          ),
          ',"invention":',
          COALESCE(
            CONCAT(
              '{"granted":',
              COALESCE(COALESCE(CAST(COALESCE(pc.invention_granted, 0) AS STRING), 'null'), ''),
              ',"pending":',
              COALESCE(COALESCE(CAST(COALESCE(pc.invention_pending, 0) AS STRING), 'null'), ''),
              '}'
            ),
            ''
          ),
          ',"utility_model":',
          COALESCE(
            CONCAT(
              '{"granted":',
              COALESCE(COALESCE(CAST(COALESCE(pc.utility_model_granted, 0) AS STRING), 'null'), ''),
              ',"pending":',
              COALESCE(COALESCE(CAST(COALESCE(pc.utility_model_pending, 0) AS STRING), 'null'), ''),
              '}'
            ),
            ''
          ),
          '}'
        ),
        ''
      ),
      ',"recent_grants":',
      COALESCE(COALESCE(ip_recent.value, '[]'), ''),
      ',"trademarks":',
      COALESCE(
        CONCAT(
          '{"pending":',
          COALESCE(COALESCE(CAST(COALESCE(tc.pending, 0) AS STRING), 'null'), ''),
          ',"registered":',
          COALESCE(COALESCE(CAST(COALESCE(tc.registered, 0) AS STRING), 'null'), ''),
          '}'
        ),
        ''
      ),
      '}'
    ) AS data
  FROM icov
  LEFT JOIN pc
    ON pc.uscc = icov.uscc
  LEFT JOIN tc
    ON tc.uscc = icov.uscc
  LEFT JOIN cc
    ON cc.uscc = icov.uscc
  LEFT JOIN gc
    ON gc.uscc = icov.uscc
  LEFT JOIN ip_recent
    ON ip_recent.uscc = icov.uscc
), judicial_data AS (
  SELECT
    jcov.uscc,
    CONCAT(
      '{"cases":',
      COALESCE(COALESCE(jud_cases.value, '[]'), ''),
      ',"cases_36m":',
      COALESCE(COALESCE(CAST(COALESCE(ca.c36, 0) AS STRING), 'null'), ''),
      ',"defendant_cases_36m":',
      COALESCE(COALESCE(CAST(COALESCE(ca.def36, 0) AS STRING), 'null'), ''),
      ',"dishonest_debtor":',
      COALESCE(CASE WHEN NOT da.listed_since IS NULL THEN 'true' ELSE 'false' END, ''),
      ',"dishonest_listings":',
      COALESCE(COALESCE(jud_listings.value, '[]'), ''),
      ',"flags":',
      COALESCE(
        CONCAT(
          '[',
          COALESCE(
            CONCAT_WS(
              ',',
              CASE
                WHEN NOT da.listed_since IS NULL
                THEN CONCAT(
                  '{"flag":',
                  '"dishonest_debtor"',
                  ',"since":',
                  COALESCE(
                    CASE
                      WHEN da.listed_since IS NULL
                      THEN 'null'
                      ELSE CONCAT(
                        COALESCE(CHR(  34), ''),
                        COALESCE(CAST(da.listed_since AS STRING), ''),
                        COALESCE(CHR(  34), '')
                      )
                    END,
                    ''
                  ),
                  '}'
                )
              END,
              CASE
                WHEN NOT ca.enforcement_since IS NULL
                THEN CONCAT(
                  '{"flag":',
                  '"open_enforcement"',
                  ',"since":',
                  COALESCE(
                    CASE
                      WHEN ca.enforcement_since IS NULL
                      THEN 'null'
                      ELSE CONCAT(
                        COALESCE(CHR(  34), ''),
                        COALESCE(CAST(ca.enforcement_since AS STRING), ''),
                        COALESCE(CHR(  34), '')
                      )
                    END,
                    ''
                  ),
                  '}'
                )
              END,
              CASE
                WHEN NOT ca.loan_since IS NULL
                THEN CONCAT(
                  '{"flag":',
                  '"loan_dispute_defendant"',
                  ',"since":',
                  COALESCE(
                    CASE
                      WHEN ca.loan_since IS NULL
                      THEN 'null'
                      ELSE CONCAT(
                        COALESCE(CHR(  34), ''),
                        COALESCE(CAST(ca.loan_since AS STRING), ''),
                        COALESCE(CHR(  34), '')
                      )
                    END,
                    ''
                  ),
                  '}'
                )
              END
            ),
            ''
          ),
          ']'
        ),
        ''
      ),
      ',"open_case_amount":',
      COALESCE(
        CASE
          WHEN COALESCE(ca.open_amount, 0) IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(COALESCE(ca.open_amount, 0) AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"open_cases":',
      COALESCE(COALESCE(CAST(COALESCE(ca.open_n, 0) AS STRING), 'null'), ''),
      '}'
    ) AS data
  FROM jcov
  LEFT JOIN ca
    ON ca.uscc = jcov.uscc
  LEFT JOIN da
    ON da.uscc = jcov.uscc
  LEFT JOIN jud_listings
    ON jud_listings.uscc = jcov.uscc
  LEFT JOIN jud_cases
    ON jud_cases.uscc = jcov.uscc
), penalties_data AS (
  SELECT
    pcov.uscc,
    CONCAT(
      '{"amount_36m":',
      COALESCE(
        CASE
          WHEN COALESCE(pa.amount36, 0) IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(COALESCE(pa.amount36, 0) AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"flags":',
      COALESCE(
        CASE
          WHEN NOT pa.severe_since IS NULL
          THEN CONCAT(
            '[',
            COALESCE(
              CONCAT(
                '{"flag":',
                '"severe_penalty"',
                ',"since":',
                COALESCE(
                  CASE
                    WHEN pa.severe_since IS NULL
                    THEN 'null'
                    ELSE CONCAT(
                      COALESCE(CHR(  34), ''),
                      COALESCE(CAST(pa.severe_since AS STRING), ''),
                      COALESCE(CHR(  34), '')
                    )
                  END,
                  ''
                ),
                '}'
              ),
              ''
            ),
            ']'
          )
          ELSE '[]'
        END,
        ''
      ),
      ',"items":',
      COALESCE(COALESCE(pen_items.value, '[]'), ''),
      ',"latest_on":',
      COALESCE(
        CASE
          WHEN pa.latest IS NULL
          THEN 'null'
          ELSE CONCAT(
            COALESCE(CHR(  34), ''),
            COALESCE(CAST(pa.latest AS STRING), ''),
            COALESCE(CHR(  34), '')
          )
        END,
        ''
      ),
      ',"penalties_36m":',
      COALESCE(COALESCE(CAST(COALESCE(pa.n36, 0) AS STRING), 'null'), ''),
      ',"severe_36m":',
      COALESCE(CASE WHEN NOT pa.severe_since IS NULL THEN 'true' ELSE 'false' END, ''),
      '}'
    ) AS data
  FROM pcov
  LEFT JOIN pa
    ON pa.uscc = pcov.uscc
  LEFT JOIN pen_items
    ON pen_items.uscc = pcov.uscc
)
SELECT
  u.uscc,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE
        WHEN c_registration.covered AND NOT d_registration.uscc IS NULL
        THEN d_registration.data
        ELSE 'null'
      END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_registration.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_registration.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_registration.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_registration.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_registration.covered AND NOT d_registration.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS registration,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE WHEN c_tax.covered AND NOT d_tax.uscc IS NULL THEN d_tax.data ELSE 'null' END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_tax.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_tax.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_tax.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_tax.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_tax.covered AND NOT d_tax.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS tax,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE
        WHEN c_headcount.covered AND NOT d_headcount.uscc IS NULL
        THEN d_headcount.data
        ELSE 'null'
      END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_headcount.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_headcount.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_headcount.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_headcount.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_headcount.covered AND NOT d_headcount.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS headcount,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE WHEN c_ip.covered AND NOT d_ip.uscc IS NULL THEN d_ip.data ELSE 'null' END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_ip.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_ip.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_ip.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_ip.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_ip.covered AND NOT d_ip.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS ip,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE
        WHEN c_judicial.covered AND NOT d_judicial.uscc IS NULL
        THEN d_judicial.data
        ELSE 'null'
      END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_judicial.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_judicial.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_judicial.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_judicial.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_judicial.covered AND NOT d_judicial.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS judicial,
  CONCAT(
    '{"data":',
    COALESCE(
      CASE
        WHEN c_penalties.covered AND NOT d_penalties.uscc IS NULL
        THEN d_penalties.data
        ELSE 'null'
      END,
      ''
    ),
    ',"source":{"as_of":',
    COALESCE(
      CASE
        WHEN c_penalties.as_of IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(CAST(c_penalties.as_of AS STRING), ''),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    ',"bureau":',
    COALESCE(
      CASE
        WHEN c_penalties.bureau IS NULL
        THEN 'null'
        ELSE CONCAT(
          COALESCE(CHR(  34), ''),
          COALESCE(
            REPLACE(
              REPLACE(c_penalties.bureau, CHR(  92), CHR(  92) || CHR(  92)),
              CHR(  34),
              CHR(  92) || CHR(  34)
            ),
            ''
          ),
          COALESCE(CHR(  34), '')
        )
      END,
      ''
    ),
    COALESCE(
      CASE
        WHEN c_penalties.covered AND NOT d_penalties.uscc IS NULL
        THEN '},"status":"ok"}'
        ELSE '},"status":"no_data"}'
      END,
      ''
    )
  ) AS penalties,
  d_tax.paid12,
  d_tax.paidprev,
  d_tax.sales12,
  d_tax.salesprev
FROM u
LEFT JOIN source_coverage AS c_registration
  ON c_registration.uscc = u.uscc AND c_registration.source = 'registration'
LEFT JOIN registration_data AS d_registration
  ON d_registration.uscc = u.uscc
LEFT JOIN source_coverage AS c_tax
  ON c_tax.uscc = u.uscc AND c_tax.source = 'tax'
LEFT JOIN tax_data AS d_tax
  ON d_tax.uscc = u.uscc
LEFT JOIN source_coverage AS c_headcount
  ON c_headcount.uscc = u.uscc AND c_headcount.source = 'headcount'
LEFT JOIN headcount_data AS d_headcount
  ON d_headcount.uscc = u.uscc
LEFT JOIN source_coverage AS c_ip
  ON c_ip.uscc = u.uscc AND c_ip.source = 'ip'
LEFT JOIN ip_data AS d_ip
  ON d_ip.uscc = u.uscc
LEFT JOIN source_coverage AS c_judicial
  ON c_judicial.uscc = u.uscc AND c_judicial.source = 'judicial'
LEFT JOIN judicial_data AS d_judicial
  ON d_judicial.uscc = u.uscc
LEFT JOIN source_coverage AS c_penalties
  ON c_penalties.uscc = u.uscc AND c_penalties.source = 'penalties'
LEFT JOIN penalties_data AS d_penalties
  ON d_penalties.uscc = u.uscc
ORDER BY
  u.uscc NULLS LAST
