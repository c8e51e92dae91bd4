"""Named analytics queries of fund-flow tracing, registered in `jinyu.analytics`' registry.

One statement traces all hops of one loan (or of every loan of a batch): the frontier is kept aggregated per
(loan, account, hop) and never enumerates paths. Each hop is a handful of CTEs generated from one template:

    o{h}  the frontier's outgoing transfers after the money arrived and before the window closes
    p{h}  each transfer's traced part, by the propagation policy (see `rules.allocate_*`, same arithmetic)
    c{h}  traced parts aggregated per (src, dst) and classified: pass on, returned, prohibited, stop, ...
    n{h}  nodes of hop h: (account, kind) with the traced amount and first arrival
    f{h}  the next frontier: pass nodes at or above the dust threshold not expanded before

Amounts are whole fen (BIGINT). A pro-rata part is floor(amount x traced / pool), computed exactly in both
engines: a double estimate corrected by an exact DECIMAL(38,0) remainder (`_MUL_DIV`), because DuckDB
divides decimals in double precision and Spark has no 128-bit integer. Stop nodes, prohibited categories
and related parties are tested with joins against small sets built once per statement; the month partition
bounds are bound parameters so only the months of the window are read.

Queries (each DuckDB-dialect SQL, translated to Spark by the registry):

    tracing_loan                      one loan, only if booked inside the caller's bank tree
    tracing_context_{mode}            its related-party accounts (and, for misuse, shell companies' accounts)
    tracing_special_accounts          accounts of stop and prohibited categories (loan-independent)
    tracing_hop_{policy}              one hop of one loan: the frontier's outgoing transfers (and inflow)
    tracing_accounts                  category and owner industry of the accounts shown as evidence
    tracing_bank_tree                 a bank node and the nodes below it
    tracing_batch_loans               the loans of a bank tree disbursed in a period
    tracing_batch_{mode}_{policy}     every loan of a batch, all hops in one statement: fen per (loan, hop, kind)

with mode `return_flow` or `misuse` and policy `pro_rata` or `fifo`. A single loan is traced one statement
per hop (the frontier passed as one bound text parameter) with the policy arithmetic in `rules.trace`; a
batch runs everything in one statement. The two are the same semantics; tests hold them equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jinyu.analytics import Engine, Month, Query, register
from jinyu.risk.tracing.rules import (
    LINKED_RELATIONS,
    MAX_HOPS_LIMIT,
    MODES,
    POLICIES,
    PROHIBITED_CATEGORIES,
    RELATIONS,
    STOP_CATEGORIES,
)

K = MAX_HOPS_LIMIT


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# -- shared CTEs --------------------------------------------------------------------------------------------

_TREE = """
node AS (
    SELECT org_code FROM banks WHERE org_code = $root_code
),
child AS (
    SELECT org_code FROM banks WHERE parent_code IN (SELECT org_code FROM node)
),
grandchild AS (
    SELECT org_code FROM banks WHERE parent_code IN (SELECT org_code FROM child)
),
tree AS (
    SELECT org_code FROM node
    UNION ALL
    SELECT org_code FROM child
    UNION ALL
    SELECT org_code FROM grandchild
)"""

_LOAN_COLUMNS = """
        l.loan_id, l.bank_code, l.borrower_uscc, l.disbursement_account, l.disbursed_at,
        CAST(l.amount * 100 AS BIGINT) AS amount_fen,
        l.disbursed_at + $window_days * INTERVAL 1 DAY AS t_end,
        strftime(l.disbursed_at + INTERVAL 8 HOUR - INTERVAL 12 MONTH, '%Y-%m') AS act_from,
        strftime(l.disbursed_at + $window_days * INTERVAL 1 DAY + INTERVAL 8 HOUR, '%Y-%m') AS act_to,
        CAST(l.disbursed_at AS DATE) - $shell_age_days AS new_since"""

_ONE_LOAN = f"""
loan AS (
    SELECT{_LOAN_COLUMNS}
    FROM loans AS l
    WHERE l.loan_id = $loan_id AND l.month = $loan_month AND l.bank_code IN (SELECT org_code FROM tree)
)"""

_BATCH_LOANS = f"""
loan AS (
    SELECT{_LOAN_COLUMNS}
    FROM loans AS l
    WHERE l.month >= $loans_from_month AND l.month <= $loans_to_month
      AND l.disbursed_at >= $disbursed_from AND l.disbursed_at < $disbursed_to
      AND l.bank_code IN (SELECT org_code FROM tree)
)"""

# Related parties per loan: (owner, relation rank). Ranks follow `rules.RELATIONS`; a party with several
# relations keeps its strongest (lowest) rank when accounts are classified.
_RANK = {name: rank for rank, (name, _zh, _en) in enumerate(RELATIONS, start=1)}
_RELATED = f"""
borrower AS (
    SELECT l.loan_id, e.uscc, e.legal_rep_id, e.address, e.phone
    FROM loan AS l
    JOIN enterprises AS e ON e.uscc = l.borrower_uscc
),
rel_owner AS (
    SELECT loan_id, uscc AS owner_id, {_RANK["own"]} AS rel_rank FROM borrower
    UNION ALL
    SELECT loan_id, legal_rep_id, {_RANK["legal_rep"]} FROM borrower
    UNION ALL
    SELECT b.loan_id, s.holder_id, {_RANK["shareholder"]}
    FROM borrower AS b JOIN shareholders AS s ON s.uscc = b.uscc
    UNION ALL
    SELECT b.loan_id, s.uscc, {_RANK["invested"]}
    FROM borrower AS b JOIN shareholders AS s ON s.holder_id = b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {_RANK["same_legal_rep"]}
    FROM borrower AS b JOIN enterprises AS e ON e.legal_rep_id = b.legal_rep_id AND e.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, s.uscc, {_RANK["rep_invested"]}
    FROM borrower AS b JOIN shareholders AS s ON s.holder_id = b.legal_rep_id AND s.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, s2.uscc, {_RANK["sister"]}
    FROM borrower AS b
    JOIN shareholders AS s1 ON s1.uscc = b.uscc AND s1.holder_type = 'enterprise'
    JOIN shareholders AS s2 ON s2.holder_id = s1.holder_id AND s2.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {_RANK["shared_address"]}
    FROM borrower AS b JOIN enterprises AS e ON e.address = b.address AND e.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {_RANK["shared_phone"]}
    FROM borrower AS b JOIN enterprises AS e ON e.phone = b.phone AND e.uscc <> b.uscc
)"""

_LINKED_RANKS = ", ".join(str(_RANK[r]) for r in LINKED_RELATIONS)

# Shell companies (misuse only): enterprises with no tax paid and no insured staff from 12 months before the
# loan to the end of its window, that are newly registered or linked to the borrower (same legal
# representative, address or phone). A newly registered company has no history before it was registered,
# so for it "inactive in the window" is "first active month after the window": one loan-independent
# MIN(month) per candidate instead of a check per (loan, candidate) pair.
_SHELLS = f"""
linked AS (
    SELECT loan_id, owner_id AS uscc FROM rel_owner WHERE rel_rank IN ({_LINKED_RANKS})
),
cand AS (
    SELECT uscc, established_on FROM enterprises
    WHERE established_on >= $new_since AND established_on <= $until
    UNION
    SELECT e.uscc, e.established_on FROM enterprises AS e WHERE e.uscc IN (SELECT uscc FROM linked)
),
act AS (
    SELECT uscc, period FROM tax_monthly
    WHERE month >= $act_from AND month <= $to_month AND tax_paid > 0 AND uscc IN (SELECT uscc FROM cand)
    UNION ALL
    SELECT uscc, period FROM headcount_monthly
    WHERE month >= $act_from AND month <= $to_month AND social_insurance_count > 0
      AND uscc IN (SELECT uscc FROM cand)
),
cand_first AS (
    SELECT c.uscc, c.established_on, MIN(a.period) AS first_active
    FROM cand AS c LEFT JOIN act AS a ON a.uscc = c.uscc
    GROUP BY c.uscc, c.established_on
),
new_shell AS (
    SELECT l.loan_id, c.uscc
    FROM loan AS l
    JOIN cand_first AS c
      ON c.established_on >= l.new_since AND c.established_on <= CAST(l.t_end AS DATE)
     AND (c.first_active IS NULL OR c.first_active > l.act_to) AND c.uscc <> l.borrower_uscc
),
linked_shell AS (
    SELECT k.loan_id, k.uscc
    FROM linked AS k
    JOIN loan AS l ON l.loan_id = k.loan_id
    LEFT JOIN act AS a ON a.uscc = k.uscc AND a.period >= l.act_from AND a.period <= l.act_to
    WHERE k.uscc <> l.borrower_uscc
    GROUP BY k.loan_id, k.uscc
    HAVING COUNT(a.period) = 0
),
shell AS (
    SELECT loan_id, uscc, MAX(is_new) AS is_new, MAX(is_linked) AS is_linked
    FROM (
        SELECT loan_id, uscc, 1 AS is_new, 0 AS is_linked FROM new_shell
        UNION ALL
        SELECT loan_id, uscc, 0 AS is_new, 1 AS is_linked FROM linked_shell
    ) AS u
    GROUP BY loan_id, uscc
)"""

_SPECIAL_CATEGORIES = _quoted(STOP_CATEGORIES + tuple(PROHIBITED_CATEGORIES))


def _special(mode: str) -> str:
    shells = " OR a.owner_id IN (SELECT uscc FROM cand)" if mode == "misuse" else ""
    shell_accounts = (
        """,
shell_acct AS (
    SELECT sh.loan_id, s.account_no, sh.is_new, sh.is_linked
    FROM shell AS sh JOIN special AS s ON s.owner_id = sh.uscc
)"""
        if mode == "misuse"
        else ""
    )
    return f"""
special AS (
    SELECT a.account_no, a.category, a.owner_id, a.bank_code, bk.parent_code
    FROM accounts AS a
    LEFT JOIN banks AS bk ON bk.org_code = a.bank_code
    WHERE a.category IN ({_SPECIAL_CATEGORIES})
       OR a.owner_id IN (SELECT owner_id FROM rel_owner){shells}
),
rel_acct AS (
    SELECT r.loan_id, s.account_no, MIN(r.rel_rank) AS rel_rank
    FROM rel_owner AS r JOIN special AS s ON s.owner_id = r.owner_id
    GROUP BY r.loan_id, s.account_no
){shell_accounts}"""


# -- one hop ------------------------------------------------------------------------------------------------


# floor(a * b / d) for BIGINT a, b, d with 0 <= b <= d: a double estimate (off by at most one, since the
# quotient is at most a < 2^53) corrected with the exact remainder in DECIMAL(38,0).
def _remainder(a: str, b: str, q: str, d: str) -> str:
    return (
        f"CAST({a} AS DECIMAL(38, 0)) * CAST({b} AS DECIMAL(38, 0)) "
        f"- CAST({q} AS DECIMAL(38, 0)) * CAST({d} AS DECIMAL(38, 0))"
    )


def _allocation(h: int, policy: str) -> str:
    """CTEs o{h} (outgoing transfers), hub{h} and p{h} (traced part of each transfer) for one policy."""
    prev = h - 1
    outgoing = f"""
o{h} AS (
    SELECT f.loan_id, f.account AS src, f.traced, f.own AS src_own, t.txn_id, t.ts, t.to_account AS dst,
           CAST(t.amount * 100 AS BIGINT) AS amt
    FROM f{prev} AS f
    JOIN transfers AS t ON t.from_account = f.account
    WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts > f.arrived AND t.ts <= f.t_end
),
hub{h} AS (
    SELECT o.loan_id, o.src, COUNT(*) AS out_n, CAST(SUM(o.amt) AS BIGINT) AS out_total
    FROM o{h} AS o
    GROUP BY o.loan_id, o.src
)"""
    if policy == "pro_rata":
        return (
            outgoing
            + f""",
i{h} AS (
    SELECT f.loan_id, f.account, CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT) AS in_total
    FROM f{prev} AS f
    JOIN transfers_by_counterparty AS t ON t.to_account = f.account
    WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts >= f.arrived AND t.ts <= f.t_end
    GROUP BY f.loan_id, f.account
),
q{h} AS (
    SELECT o.loan_id, o.src, o.src_own, o.dst, o.ts, o.amt, o.traced, x.pool,
           CAST(FLOOR(CAST(o.amt AS DOUBLE) * CAST(o.traced AS DOUBLE) / CAST(x.pool AS DOUBLE)) AS BIGINT)
               AS q0
    FROM o{h} AS o
    JOIN (
        SELECT hb.loan_id, hb.src, hb.out_n,
               GREATEST(f.traced, COALESCE(i.in_total, 0), hb.out_total) AS pool
        FROM hub{h} AS hb
        JOIN f{prev} AS f ON f.loan_id = hb.loan_id AND f.account = hb.src
        LEFT JOIN i{h} AS i ON i.loan_id = hb.loan_id AND i.account = hb.src
        WHERE hb.out_n < $hub_degree OR f.own = 1
    ) AS x ON x.loan_id = o.loan_id AND x.src = o.src
),
p{h} AS (
    SELECT loan_id, src, src_own, dst, ts,
           q0 + CASE
               WHEN {_remainder("amt", "traced", "q0", "pool")} < 0 THEN -1
               WHEN {_remainder("amt", "traced", "q0", "pool")} >= pool THEN 1
               ELSE 0
           END AS part
    FROM q{h}
)"""
        )
    return (
        outgoing
        + f""",
w{h} AS (
    SELECT o.loan_id, o.src, o.src_own, o.dst, o.ts, o.amt, o.traced,
           COALESCE(SUM(o.amt) OVER (
               PARTITION BY o.loan_id, o.src ORDER BY o.ts, o.txn_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS before
    FROM o{h} AS o
    JOIN hub{h} AS hb ON hb.loan_id = o.loan_id AND hb.src = o.src
    WHERE hb.out_n < $hub_degree OR o.src_own = 1
),
p{h} AS (
    SELECT loan_id, src, src_own, dst, ts, GREATEST(0, LEAST(amt, traced - before)) AS part
    FROM w{h}
)"""
    )


def _edge_kind(mode: str) -> str:
    prohibited = """
        WHEN s.category = 'securities_settlement' THEN 'securities'
        WHEN s.category = 'real_estate_developer' THEN 'real_estate'
        WHEN s.category = 'loan_repayment' AND e.src_own = 1
             AND (s.bank_code = l.bank_code OR s.parent_code = l.bank_code) THEN 'servicing'
        WHEN s.category = 'loan_repayment' AND rs.rel_rank IS NOT NULL THEN 'other_loan'
        WHEN s.category = 'loan_repayment' THEN 'stop'"""
    stop = f"""
        WHEN s.category IN ({_quoted(STOP_CATEGORIES)}) THEN 'stop'"""
    if mode == "return_flow":
        return f"""CASE
        WHEN rd.rel_rank = 1 AND e.src_own = 1 THEN 'pass'
        WHEN rd.rel_rank IS NOT NULL THEN 'returned'{prohibited}{stop}
        ELSE 'pass'
    END"""
    return f"""CASE{prohibited}{stop}
        WHEN sh.account_no IS NOT NULL AND COALESCE(rd.rel_rank, 0) <> 1 THEN 'shell'
        ELSE 'pass'
    END"""


def _frontier(h: int) -> str:
    """f{h}: the accounts hop h+1 expands (none after the last possible hop)."""
    if h >= K:
        return ""
    return f"""f{h} AS (
    SELECT n.loan_id, n.account, n.traced, n.arrived, l.t_end, n.own
    FROM n{h} AS n
    JOIN loan AS l ON l.loan_id = n.loan_id
    WHERE {h} < $max_hops AND n.kind = 'pass' AND n.seen = 0 AND n.traced >= $dust_fen
),
"""


def _hop(h: int, mode: str, policy: str) -> str:
    prev = h - 1
    shell_join = (
        "\n    LEFT JOIN shell_acct AS sh ON sh.loan_id = e.loan_id AND sh.account_no = e.dst"
        if mode == "misuse"
        else ""
    )
    seen = " UNION ALL ".join(f"SELECT loan_id, account FROM f{j}" for j in range(h))
    return (
        _allocation(h, policy)
        + f""",
c{h} AS (
    SELECT e.loan_id, e.src, e.dst, e.traced, e.first_ts, e.last_ts, e.txn_count,
           CASE WHEN rd.rel_rank = 1 THEN 1 ELSE 0 END AS own,
           {_edge_kind(mode)} AS kind
    FROM (
        SELECT loan_id, src, MAX(src_own) AS src_own, dst, CAST(SUM(part) AS BIGINT) AS traced,
               MIN(ts) AS first_ts, MAX(ts) AS last_ts, COUNT(*) AS txn_count
        FROM p{h}
        WHERE part > 0
        GROUP BY loan_id, src, dst
    ) AS e
    JOIN loan AS l ON l.loan_id = e.loan_id
    LEFT JOIN special AS s ON s.account_no = e.dst
    LEFT JOIN rel_acct AS rd ON rd.loan_id = e.loan_id AND rd.account_no = e.dst
    LEFT JOIN rel_acct AS rs ON rs.loan_id = e.loan_id AND rs.account_no = e.src{shell_join}
),
seen{h} AS (
    {seen}
),
n{h} AS (
    SELECT c.loan_id, c.dst AS account, c.kind, CAST(SUM(c.traced) AS BIGINT) AS traced,
           MIN(c.first_ts) AS arrived, MAX(c.last_ts) AS last_ts, CAST(SUM(c.txn_count) AS BIGINT) AS txn_count,
           MAX(c.own) AS own, MAX(CASE WHEN sn.account IS NULL THEN 0 ELSE 1 END) AS seen
    FROM c{h} AS c
    LEFT JOIN seen{h} AS sn ON sn.loan_id = c.loan_id AND sn.account = c.dst
    GROUP BY c.loan_id, c.dst, c.kind
),
{_frontier(h)}r{h} AS (
    SELECT f.loan_id, {prev} AS hop, f.account,
           CASE WHEN hb.out_n >= $hub_degree AND f.own = 0 THEN 'hub' ELSE 'residual' END AS kind,
           CASE
               WHEN hb.out_n >= $hub_degree AND f.own = 0 THEN f.traced
               ELSE f.traced - COALESCE(x.out_traced, 0)
           END AS traced,
           f.arrived
    FROM f{prev} AS f
    LEFT JOIN hub{h} AS hb ON hb.loan_id = f.loan_id AND hb.src = f.account
    LEFT JOIN (
        SELECT loan_id, src, CAST(SUM(part) AS BIGINT) AS out_traced FROM p{h} GROUP BY loan_id, src
    ) AS x ON x.loan_id = f.loan_id AND x.src = f.account
)"""
    )


_FINAL_KIND = """CASE
            WHEN n.traced < $dust_fen THEN 'dust'
            WHEN n.kind <> 'pass' THEN n.kind
            WHEN n.seen = 1 THEN 'cycle'
            WHEN {h} >= $max_hops THEN 'open'
            ELSE 'pass'
        END"""


def _nodes() -> str:
    """All node rows: the origin, every hop's arrivals with their final kind, residuals and hubs."""
    parts = [
        "SELECT loan_id, 0 AS hop, account, 'origin' AS kind, traced, arrived, arrived AS last_ts, "
        "CAST(0 AS BIGINT) AS txn_count FROM f0"
    ]
    for h in range(1, K + 1):
        parts.append(
            f"SELECT n.loan_id, {h} AS hop, n.account, {_FINAL_KIND.format(h=h)} AS kind, n.traced, n.arrived, "
            f"n.last_ts, n.txn_count FROM n{h} AS n"
        )
        parts.append(
            f"SELECT loan_id, hop, account, kind, traced, arrived, arrived AS last_ts, CAST(0 AS BIGINT) AS txn_count "
            f"FROM r{h} WHERE traced > 0"
        )
    return "nodes AS (\n    " + "\n    UNION ALL\n    ".join(parts) + "\n)"


def _trace_ctes(mode: str, policy: str, *, batch: bool) -> str:
    ctes = [_TREE.strip(), (_BATCH_LOANS if batch else _ONE_LOAN).strip(), _RELATED.strip()]
    if mode == "misuse":
        ctes.append(_SHELLS.strip())
    ctes.append(_special(mode).strip())
    ctes.append(
        "f0 AS (\n    SELECT loan_id, disbursement_account AS account, amount_fen AS traced, "
        "disbursed_at AS arrived, t_end, 1 AS own\n    FROM loan\n)"
    )
    ctes.extend(_hop(h, mode, policy).strip() for h in range(1, K + 1))
    ctes.append(_nodes())
    return "WITH " + ",\n".join(ctes)


def _batch_sql(mode: str, policy: str) -> str:
    """Per loan of the batch: traced amount, first arrival and node count per (hop, kind)."""
    return (
        _trace_ctes(mode, policy, batch=True)
        + """
SELECT loan_id, hop, kind, CAST(SUM(traced) AS BIGINT) AS traced, MIN(arrived) AS first_ts,
       COUNT(*) AS nodes
FROM nodes
WHERE kind <> 'pass'
GROUP BY loan_id, hop, kind
ORDER BY loan_id, hop, kind
"""
    )


# -- registration -------------------------------------------------------------------------------------------

_TRACE_PARAMS: dict[str, type] = {
    "root_code": str,
    "window_days": int,
    "shell_age_days": int,
    "from_month": Month,
    "to_month": Month,
    "max_hops": int,
    "dust_fen": int,
    "hub_degree": int,
}
_SHELL_PARAMS: dict[str, type] = {"new_since": dt.date, "until": dt.date, "act_from": Month}
_BATCH_PARAMS: dict[str, type] = {
    "loans_from_month": Month,
    "loans_to_month": Month,
    "disbursed_from": dt.datetime,
    "disbursed_to": dt.datetime,
}


def batch_query_name(mode: str, policy: str) -> str:
    return f"tracing_batch_{mode}_{policy}"


def _register_batches() -> None:
    for mode in MODES:
        for policy in POLICIES:
            register(
                Query(
                    name=batch_query_name(mode, policy),
                    sql=_batch_sql(mode, policy),
                    params={**_TRACE_PARAMS, **_BATCH_PARAMS, **(_SHELL_PARAMS if mode == "misuse" else {})},
                    description=f"批量贷款资金追踪 / fund trace of every loan in a batch ({mode}, {policy}): "
                    "traced fen per loan, hop and kind, all hops in one statement",
                )
            )


_register_batches()

_LOAN_SELECT = """
SELECT l.loan_id, l.bank_code, l.borrower_uscc, l.disbursement_account, l.amount, l.disbursed_at,
       l.term_months, l.declared_purpose, l.month AS loan_month,
       e.name AS borrower_name, e.legal_rep_name AS borrower_rep_name
FROM loans AS l
LEFT JOIN enterprises AS e ON e.uscc = l.borrower_uscc"""

register(
    Query(
        name="tracing_loan",
        sql=f"""
WITH {_TREE.strip()}{_LOAN_SELECT}
WHERE l.loan_id = $loan_id AND l.bank_code IN (SELECT org_code FROM tree)
""",
        params={"loan_id": str, "root_code": str},
        description="贷款（仅限本机构及下级发放的）/ one loan, only if booked in the caller's bank tree",
    )
)

register(
    Query(
        name="tracing_bank_tree",
        sql=f"""
WITH {_TREE.strip()}
SELECT org_code FROM tree ORDER BY org_code
""",
        params={"root_code": str},
        description="某银行机构及其下级机构编码 / a bank node and the nodes below it",
    )
)

register(
    Query(
        name="tracing_batch_loans",
        sql=f"""
WITH {_TREE.strip()}{_LOAN_SELECT}
WHERE l.month >= $loans_from_month AND l.month <= $loans_to_month
  AND l.disbursed_at >= $disbursed_from AND l.disbursed_at < $disbursed_to
  AND l.bank_code IN (SELECT org_code FROM tree)
ORDER BY l.disbursed_at, l.loan_id
""",
        params={"root_code": str, **_BATCH_PARAMS},
        description="某机构及下级在期间内发放的贷款 / loans of a bank tree disbursed in a period",
    )
)

# The loan's context for a single trace: its related accounts and, for misuse, the shell companies' accounts.
_CONTEXT_SELECT = """
SELECT 'related' AS row_type, a.account_no, r.rel_rank, a.owner_id, a.owner_type, a.owner_name, a.category,
       0 AS shell_new, 0 AS shell_linked
FROM rel_owner AS r
JOIN accounts AS a ON a.owner_id = r.owner_id"""


def _context_sql(mode: str) -> str:
    ctes = [_TREE.strip(), _ONE_LOAN.strip(), _RELATED.strip()]
    body = _CONTEXT_SELECT
    if mode == "misuse":
        ctes.append(_SHELLS.strip())
        body += """
UNION ALL
SELECT 'shell', a.account_no, NULL, a.owner_id, a.owner_type, a.owner_name, a.category, sh.is_new, sh.is_linked
FROM shell AS sh
JOIN accounts AS a ON a.owner_id = sh.uscc"""
    return "WITH " + ",\n".join(ctes) + body + "\nORDER BY row_type, account_no, rel_rank\n"


_CONTEXT_PARAMS: dict[str, type] = {
    "loan_id": str,
    "loan_month": Month,
    "root_code": str,
    "window_days": int,
    "shell_age_days": int,
}
for _mode in MODES:
    register(
        Query(
            name=f"tracing_context_{_mode}",
            sql=_context_sql(_mode),
            params={
                **_CONTEXT_PARAMS,
                **({**_SHELL_PARAMS, "to_month": Month} if _mode == "misuse" else {}),
            },
            description="单笔追踪的关联方账户"
            + ("及空壳企业账户" if _mode == "misuse" else "")
            + " / a loan's related-party accounts"
            + (" and shell-company accounts" if _mode == "misuse" else ""),
        )
    )

register(
    Query(
        name="tracing_special_accounts",
        sql=f"""
SELECT a.account_no, a.category, a.bank_code, bk.parent_code
FROM accounts AS a
LEFT JOIN banks AS bk ON bk.org_code = a.bank_code
WHERE a.category IN ({_SPECIAL_CATEGORIES})
ORDER BY a.account_no
""",
        params={},
        description="止点与禁止类别账户 / accounts where tracing stops or that are prohibited uses",
    )
)

# The frontier travels as one bound text parameter: "account|arrived_us|own,account|arrived_us|own,...".
_FRONTIER = """
f AS (
    SELECT split_part(x, '|', 1) AS account,
           make_timestamp(CAST(split_part(x, '|', 2) AS BIGINT)) AS arrived,
           CAST(split_part(x, '|', 3) AS INTEGER) AS own
    FROM (SELECT unnest(string_split($frontier, ',')) AS x) AS u
)"""


def _hop_sql(policy: str) -> str:
    inflow = (
        """
UNION ALL
SELECT 'in', f.account, NULL, NULL, NULL, CAST(SUM(CAST(t.amount * 100 AS BIGINT)) AS BIGINT), NULL
FROM f
JOIN transfers_by_counterparty AS t ON t.to_account = f.account
WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts >= f.arrived AND t.ts <= $until
GROUP BY f.account"""
        if policy == "pro_rata"
        else ""
    )
    return f"""
WITH {_FRONTIER.strip()},
o AS (
    SELECT f.account AS src, f.own, t.txn_id, t.ts, t.to_account AS dst, CAST(t.amount * 100 AS BIGINT) AS amt
    FROM f
    JOIN transfers AS t ON t.from_account = f.account
    WHERE t.month >= $from_month AND t.month <= $to_month AND t.ts > f.arrived AND t.ts <= $until
),
n AS (
    SELECT src, COUNT(*) AS out_n FROM o GROUP BY src
)
SELECT 'out' AS row_type, o.src, o.txn_id, o.ts, o.dst, o.amt, n.out_n
FROM o JOIN n ON n.src = o.src
WHERE n.out_n < $hub_degree OR o.own = 1
UNION ALL
SELECT 'count', src, NULL, NULL, NULL, NULL, out_n FROM n{inflow}
ORDER BY row_type, src, ts, txn_id
"""


for _policy in POLICIES:
    register(
        Query(
            name=f"tracing_hop_{_policy}",
            sql=_hop_sql(_policy),
            params={
                "frontier": str,
                "from_month": Month,
                "to_month": Month,
                "until": dt.datetime,
                "hub_degree": int,
            },
            description="一跳：前沿账户到达后窗口内的转出"
            + ("及流入合计" if _policy == "pro_rata" else "")
            + " / one hop: the frontier's outgoing transfers after arrival"
            + (", and its inflow" if _policy == "pro_rata" else ""),
        )
    )

register(
    Query(
        name="tracing_accounts",
        sql="""
SELECT a.account_no, a.category, a.owner_type, a.owner_id, a.owner_name, e.industry_code
FROM accounts AS a
LEFT JOIN enterprises AS e ON e.uscc = a.owner_id
WHERE a.account_no IN (SELECT unnest(string_split($accounts, ',')))
ORDER BY a.account_no
""",
        params={"accounts": str},
        description="证据中账户的类别与户主行业 / category and owner industry of the accounts in the evidence",
    )
)


# -- callers ----------------------------------------------------------------------------------------------

LIST_SEPARATOR = ","


def loan(engine: Engine, loan_id: str, root_code: str) -> dict[str, Any] | None:
    rows = engine.run("tracing_loan", loan_id=loan_id, root_code=root_code).to_pylist()
    return dict(rows[0]) if rows else None


def bank_tree(engine: Engine, root_code: str) -> set[str]:
    return {str(r["org_code"]) for r in engine.run("tracing_bank_tree", root_code=root_code).to_pylist()}


def batch_loans(engine: Engine, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run("tracing_batch_loans", **params).to_pylist())


def context(engine: Engine, mode: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run(f"tracing_context_{mode}", **params).to_pylist())


def special_accounts(engine: Engine) -> list[dict[str, Any]]:
    return list(engine.run("tracing_special_accounts").to_pylist())


def hop(engine: Engine, policy: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run(f"tracing_hop_{policy}", **params).to_pylist())


def accounts(engine: Engine, account_nos: list[str]) -> list[dict[str, Any]]:
    if not account_nos:
        return []
    return list(engine.run("tracing_accounts", accounts=LIST_SEPARATOR.join(account_nos)).to_pylist())


def batch_trace(engine: Engine, mode: str, policy: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run(batch_query_name(mode, policy), **params).to_pylist())
