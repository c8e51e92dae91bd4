"""Named analytics queries of the industrial-chain domain, registered in jinyu.analytics' registry.

Membership (`chain_members`) is the authoritative assignment of enterprises to chains; the segment every
query groups by is the *effective* one: the regulator's override of the chain's current definition version
(`$segment_overrides`, see `overrides_param`), else the dataset's. Overrides move members between segments;
they never add or remove members, so the queries that only ask "is it a member" read `chain_members`. A
transfer belongs to an enterprise through its accounts (`accounts.owner_id` = USCC, owner_type enterprise).
Months are the lake's `month` partition (Asia/Shanghai). Month arithmetic is done by the caller, which passes
every bound as a `YYYY-MM` parameter, so the SQL has no engine-specific date functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from jinyu.analytics import Engine, Month, NonNegativeInt, Query, register

# The effective segment of every member of every chain: the override passed in `$segment_overrides`
# ('chain:USCC:segment;…', one entry per override; chain and segment codes and USCCs never hold ':' or ';'),
# else the dataset's. One text parameter rather than a table: the overrides live in PostgreSQL, are few, and
# as a parameter they are part of every cached result's key, so a new definition version is never answered
# from a result of the old one. The same text is the golden SQL of chain_segment_flows (analytics/queries).
EFFECTIVE_MEMBERS = """
segment_overrides AS (
    SELECT split_part(o, ':', 1) AS chain_code, split_part(o, ':', 2) AS uscc, split_part(o, ':', 3) AS segment
    FROM (SELECT unnest(string_split($segment_overrides, ';')) AS o) AS listed
    WHERE o <> ''
),
effective_members AS (
    SELECT m.chain_code, m.chain_name, m.uscc, coalesce(o.segment, m.segment) AS segment,
        m.segment AS dataset_segment, m.is_core
    FROM chain_members AS m
    LEFT JOIN segment_overrides AS o ON o.chain_code = m.chain_code AND o.uscc = m.uscc
)"""

_MEMBER_ACCOUNTS = """
member_accounts AS (
    SELECT a.account_no, m.uscc, m.segment
    FROM accounts AS a
    JOIN effective_members AS m ON m.uscc = a.owner_id AND m.chain_code = $chain_code
    WHERE a.owner_type = 'enterprise'
)"""


# The accounts of enterprises registered in the region (`enterprises`), by owner: the supply network's nodes.
ENTERPRISE_ACCOUNTS = """
ent_accounts AS (
    -- Registered enterprises only: government bodies' collection accounts are also owner_type enterprise.
    SELECT account_no, owner_id AS uscc FROM accounts
    WHERE owner_type = 'enterprise' AND owner_id IN (SELECT uscc FROM enterprises)
)"""

# Every bank office with the code of its head office (a tree of at most three levels: head, branch, outlet).
_HEAD_OFFICES = """
tree AS (
    SELECT b.org_code, coalesce(p2.org_code, p1.org_code, b.org_code) AS head_code
    FROM banks AS b
    LEFT JOIN banks AS p1 ON p1.org_code = b.parent_code
    LEFT JOIN banks AS p2 ON p2.org_code = p1.parent_code
)"""

ALL_MEMBERS = 10_000_000  # `$limit` of `chain_member_list` read as a chain's whole member list


def overrides_param(overrides: Mapping[str, Mapping[str, str]]) -> str:
    """`$segment_overrides` of {chain code: {USCC: segment}}, sorted so that equal overrides give equal text
    (and so the same result-cache key)."""
    return ";".join(f"{c}:{u}:{s}" for c in sorted(overrides) for u, s in sorted(overrides[c].items()))


CHAIN_MEMBERS = register(
    Query(
        name="chain_member_list",
        sql=f"""
WITH {EFFECTIVE_MEMBERS.strip()}
SELECT
    m.uscc, m.segment, m.dataset_segment, m.is_core, e.name, e.industry_code, e.district_code, e.status,
    count(*) OVER () AS total
FROM effective_members AS m
LEFT JOIN enterprises AS e ON e.uscc = m.uscc
WHERE m.chain_code = $chain_code AND ($segment = '' OR m.segment = $segment)
ORDER BY m.is_core DESC, m.segment, m.uscc
LIMIT $limit OFFSET $offset
""",
        params={
            "chain_code": str,
            "segment": str,
            "limit": NonNegativeInt,
            "offset": NonNegativeInt,
            "segment_overrides": str,
        },
        description="产业链成员 / members of a chain (core first), with registration data, paged",
    )
)

CHAIN_SEGMENT_COUNTS = register(
    Query(
        name="chain_segment_counts",
        sql=f"""
WITH {EFFECTIVE_MEMBERS.strip()}
SELECT chain_code, max(chain_name) AS chain_name, segment, count(*) AS members,
    count(CASE WHEN is_core THEN 1 END) AS core_members
FROM effective_members
GROUP BY chain_code, segment
ORDER BY chain_code, segment
""",
        params={"segment_overrides": str},
        description="各产业链各环节成员数 / members per chain and segment",
    )
)

CHAIN_EXTERNAL_FLOWS = register(
    Query(
        name="chain_external_flows",
        sql=f"""
-- Every transfer with a member of the chain on one side, classed by the other side: a member of the same
-- chain ('chain'), a member of another chain only ('other_chain'), another enterprise registered in the
-- region ('region'), anyone else ('outside': persons, banks, government, enterprises not registered here).
WITH {EFFECTIVE_MEMBERS.strip()},
{_MEMBER_ACCOUNTS.strip()},
other_chain AS (
    SELECT DISTINCT uscc FROM chain_members WHERE chain_code <> $chain_code
),
sides AS (
    SELECT t.month, 'out' AS direction, m.segment, t.to_account AS other_account, t.amount
    FROM transfers AS t JOIN member_accounts AS m ON m.account_no = t.from_account
    WHERE t.month BETWEEN $from_month AND $to_month
    UNION ALL
    SELECT t.month, 'in' AS direction, m.segment, t.from_account AS other_account, t.amount
    FROM transfers AS t JOIN member_accounts AS m ON m.account_no = t.to_account
    WHERE t.month BETWEEN $from_month AND $to_month
),
region AS (
    SELECT DISTINCT uscc FROM enterprises
),
classified AS (
    SELECT
        s.month, s.segment, s.direction, s.amount,
        CASE
            WHEN mc.account_no IS NOT NULL THEN 'chain'
            WHEN o.owner_type = 'enterprise' AND oc.uscc IS NOT NULL THEN 'other_chain'
            WHEN o.owner_type = 'enterprise' AND re.uscc IS NOT NULL THEN 'region'
            ELSE 'outside'
        END AS counterparty
    FROM sides AS s
    LEFT JOIN member_accounts AS mc ON mc.account_no = s.other_account
    LEFT JOIN accounts AS o ON o.account_no = s.other_account
    LEFT JOIN other_chain AS oc ON oc.uscc = o.owner_id
    LEFT JOIN region AS re ON re.uscc = o.owner_id
)
SELECT month, segment, direction, counterparty, count(*) AS txn_count,
    CAST(sum(amount) AS DECIMAL(38, 2)) AS total_amount
FROM classified
GROUP BY month, segment, direction, counterparty
ORDER BY month, segment, direction, counterparty
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链成员与链内外的资金往来 / a chain's money in and out by segment, month and "
        "counterparty class (chain, other_chain, region, outside)",
    )
)

CHAIN_MEMBER_LINKS = register(
    Query(
        name="chain_member_links",
        sql=f"""
-- Payments between enterprises registered in the region (`enterprises`) where at least one side is a member
-- of the chain: the supply network's edges per month (payer pays payee; goods flow the other way).
-- The window's transfers are first cut to those touching a member's account (`touching`), and only those are
-- joined to both sides' owners: joining every transfer between registered enterprises first and filtering
-- by membership afterwards was the chain page's slowest statement (~540 → ~440 ms on the medium region).
WITH members AS (
    SELECT uscc FROM chain_members WHERE chain_code = $chain_code
),
{ENTERPRISE_ACCOUNTS.strip()},
member_accounts AS (
    SELECT account_no FROM ent_accounts WHERE uscc IN (SELECT uscc FROM members)
),
touching AS (
    SELECT t.month, t.from_account, t.to_account, t.amount
    FROM transfers AS t
    WHERE t.month BETWEEN $from_month AND $to_month
        AND (t.from_account IN (SELECT account_no FROM member_accounts)
            OR t.to_account IN (SELECT account_no FROM member_accounts))
)
SELECT
    t.month, fa.uscc AS payer, ta.uscc AS payee, count(*) AS txn_count,
    CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM touching AS t
JOIN ent_accounts AS fa ON fa.account_no = t.from_account
JOIN ent_accounts AS ta ON ta.account_no = t.to_account
WHERE fa.uscc <> ta.uscc
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month},
        description="产业链供应网络边 / payments between enterprises touching a chain, per month and pair",
    )
)

CHAIN_LINKS_AND_FLOWS = register(
    Query(
        name="chain_links_and_flows",
        sql=f"""
-- `chain_member_links` and `chain_segment_flows` of one window in one statement (`part` 'links' / 'flows'),
-- so the chain page's first request scans the window's transfers and builds the member accounts once, not
-- twice (jinyu.chain.reads.links_and_flows splits it; tests/chain/test_reads.py compares each part with the
-- query of its own, run directly). `touching`: transfers with an account of a member on either side (any owner
-- type, as the flows join accounts), a superset of both queries' transfers. Links: both sides registered
-- enterprises' accounts (`ent_accounts`, as chain_member_links), different owners; one side is a member's
-- account because the transfer touches one. Flows: both sides members' accounts, by effective segment.
WITH {EFFECTIVE_MEMBERS.strip()},
member_any AS (
    SELECT a.account_no, m.segment
    FROM accounts AS a
    JOIN effective_members AS m ON m.uscc = a.owner_id AND m.chain_code = $chain_code
),
{ENTERPRISE_ACCOUNTS.strip()},
touching AS (
    SELECT t.month, t.from_account, t.to_account, t.amount
    FROM transfers AS t
    WHERE t.month BETWEEN $from_month AND $to_month
        AND (t.from_account IN (SELECT account_no FROM member_any)
            OR t.to_account IN (SELECT account_no FROM member_any))
)
SELECT 'links' AS part, t.month, fa.uscc AS from_party, ta.uscc AS to_party, count(*) AS txn_count,
    CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM touching AS t
JOIN ent_accounts AS fa ON fa.account_no = t.from_account
JOIN ent_accounts AS ta ON ta.account_no = t.to_account
WHERE fa.uscc <> ta.uscc
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT 'flows' AS part, t.month, p.segment AS from_party, q.segment AS to_party, count(*) AS txn_count,
    CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM touching AS t
JOIN member_any AS p ON p.account_no = t.from_account
JOIN member_any AS q ON q.account_no = t.to_account
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链供应网络边与环节间资金流 / a chain's supply links and segment flows of a window in one "
        "scan ('links' rows as chain_member_links, 'flows' rows as chain_segment_flows)",
    )
)

CHAIN_MEMBER_HEALTH = register(
    Query(
        name="chain_member_health",
        sql="""
-- Health indicators, as of a month, of the chain's members and of every enterprise that paid or was paid by
-- $focus in the six months to that month (its suppliers and dealers, members or not): head-count now and
-- six months earlier, tax of the last twelve months and the twelve before, open judicial cases against
-- them, and in how many of the last six months they paid anyone.
WITH subjects AS (
    SELECT uscc FROM chain_members WHERE chain_code = $chain_code
    UNION
    SELECT other.owner_id AS uscc
    FROM transfers AS t
    JOIN accounts AS mine ON mine.owner_id = $focus AND mine.owner_type = 'enterprise'
        AND mine.account_no IN (t.from_account, t.to_account)
    JOIN accounts AS other ON other.owner_type = 'enterprise' AND other.owner_id <> $focus
        AND other.account_no IN (t.from_account, t.to_account)
        AND other.owner_id IN (SELECT uscc FROM enterprises)
    WHERE t.month > $earlier_month AND t.month <= $as_of_month
),
hc AS (
    SELECT uscc,
        max(CASE WHEN period = $as_of_month THEN social_insurance_count END) AS headcount_now,
        max(CASE WHEN period = $earlier_month THEN social_insurance_count END) AS headcount_before
    FROM headcount_monthly
    WHERE period IN ($as_of_month, $earlier_month) AND uscc IN (SELECT uscc FROM subjects)
    GROUP BY uscc
),
tax AS (
    SELECT uscc,
        CAST(sum(CASE WHEN period > $tax_split_month THEN tax_paid ELSE 0 END) AS DECIMAL(38, 2)) AS tax_12m,
        CAST(sum(CASE WHEN period <= $tax_split_month THEN tax_paid ELSE 0 END) AS DECIMAL(38, 2)) AS tax_prev_12m
    FROM tax_monthly
    WHERE period > $tax_from_month AND period <= $as_of_month AND uscc IN (SELECT uscc FROM subjects)
    GROUP BY uscc
),
cases AS (
    SELECT uscc, count(*) AS open_cases
    FROM judicial
    WHERE status = 'open' AND role IN ('defendant', 'executed') AND filed_on < $as_of_end
        AND uscc IN (SELECT uscc FROM subjects)
    GROUP BY uscc
),
paying AS (
    SELECT a.owner_id AS uscc, count(DISTINCT t.month) AS paying_months
    FROM transfers AS t
    JOIN accounts AS a ON a.account_no = t.from_account AND a.owner_type = 'enterprise'
    WHERE t.month > $earlier_month AND t.month <= $as_of_month AND a.owner_id IN (SELECT uscc FROM subjects)
    GROUP BY a.owner_id
)
SELECT
    s.uscc, e.name, e.status,
    hc.headcount_now, hc.headcount_before,
    coalesce(tax.tax_12m, CAST(0 AS DECIMAL(38, 2))) AS tax_12m,
    coalesce(tax.tax_prev_12m, CAST(0 AS DECIMAL(38, 2))) AS tax_prev_12m,
    coalesce(cases.open_cases, 0) AS open_cases,
    coalesce(paying.paying_months, 0) AS paying_months
FROM subjects AS s
LEFT JOIN enterprises AS e ON e.uscc = s.uscc
LEFT JOIN hc ON hc.uscc = s.uscc
LEFT JOIN tax ON tax.uscc = s.uscc
LEFT JOIN cases ON cases.uscc = s.uscc
LEFT JOIN paying ON paying.uscc = s.uscc
ORDER BY s.uscc
""",
        params={
            "chain_code": str,
            "focus": str,
            "as_of_month": Month,
            "earlier_month": Month,
            "tax_split_month": Month,
            "tax_from_month": Month,
            "as_of_end": dt.date,
        },
        description="企业健康指标 / health of a chain's members or listed enterprises as of a month: "
        "head-count trend, tax trend, open cases, payment regularity",
    )
)

CHAIN_LOANS = register(
    Query(
        name="chain_loans",
        sql=f"""
-- Loans disbursed to the chain's members per month, (effective) segment, lending head office and term. An
-- enterprise in two segments of the same chain is not possible (key chain_code, uscc; one override each);
-- manufacturing = GB/T 4754 section C.
WITH {EFFECTIVE_MEMBERS.strip()},
{_HEAD_OFFICES.strip()}
SELECT
    l.month, m.segment, tree.head_code, h.name AS head_name, l.term_months,
    coalesce(substr(e.industry_code, 1, 1) = 'C', false) AS manufacturing,
    count(*) AS loan_count,
    count(DISTINCT l.borrower_uscc) AS borrowers,
    CAST(sum(l.amount) AS DECIMAL(38, 2)) AS total_amount
FROM loans AS l
JOIN effective_members AS m ON m.uscc = l.borrower_uscc AND m.chain_code = $chain_code
LEFT JOIN enterprises AS e ON e.uscc = l.borrower_uscc
LEFT JOIN tree ON tree.org_code = l.bank_code
LEFT JOIN banks AS h ON h.org_code = tree.head_code
WHERE l.month BETWEEN $from_month AND $to_month
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 5, 6
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链贷款 / loans to a chain's members by month, segment, head office, term",
    )
)

CHAIN_MEMBER_BORROWERS = register(
    Query(
        name="chain_member_borrowers",
        sql="""
-- The chain's members that borrowed, per month of the window (one row per member and month with any loan):
-- `chain_credit_coverage` of a window counts, per segment, the members among the window's months' rows
-- (jinyu.chain.reads counts it so for the chain page; tests/chain/test_reads.py compares the two).
SELECT DISTINCT l.month, l.borrower_uscc AS uscc
FROM loans AS l
WHERE l.month BETWEEN $from_month AND $to_month
    AND l.borrower_uscc IN (SELECT uscc FROM chain_members WHERE chain_code = $chain_code)
ORDER BY 1, 2
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month},
        description="产业链借款成员 / the chain's members with a loan, per month",
    )
)

CHAIN_LOANS_AND_BORROWERS = register(
    Query(
        name="chain_loans_and_borrowers",
        sql=f"""
-- `chain_loans` and `chain_member_borrowers` of one window in one statement (`part` 'loans' / 'borrowers'),
-- so the chain page's first request plans the statement, reads the members, banks and the window's loans once,
-- not once for its loans and again for its credit coverage (jinyu.chain.reads.loans_and_borrowers splits it;
-- tests/chain/test_reads.py compares each part with the query of its own, run directly). `member_loans`: the
-- window's loans to members of the chain (one row per loan: the membership key is chain code and USCC), with
-- the borrower's effective segment. 'loans' rows are chain_loans' (`uscc` null); 'borrowers' rows carry only
-- month and `uscc`, as chain_member_borrowers.
WITH {EFFECTIVE_MEMBERS.strip()},
{_HEAD_OFFICES.strip()},
member_loans AS (
    SELECT l.month, m.segment, l.bank_code, l.term_months, l.borrower_uscc, l.amount
    FROM loans AS l
    JOIN effective_members AS m ON m.uscc = l.borrower_uscc AND m.chain_code = $chain_code
    WHERE l.month BETWEEN $from_month AND $to_month
)
SELECT
    'loans' AS part, l.month, l.segment, tree.head_code, h.name AS head_name, l.term_months,
    coalesce(substr(e.industry_code, 1, 1) = 'C', false) AS manufacturing,
    count(*) AS loan_count,
    count(DISTINCT l.borrower_uscc) AS borrowers,
    CAST(sum(l.amount) AS DECIMAL(38, 2)) AS total_amount,
    CAST(NULL AS VARCHAR) AS uscc
FROM member_loans AS l
LEFT JOIN enterprises AS e ON e.uscc = l.borrower_uscc
LEFT JOIN tree ON tree.org_code = l.bank_code
LEFT JOIN banks AS h ON h.org_code = tree.head_code
GROUP BY 1, 2, 3, 4, 5, 6, 7
UNION ALL
SELECT DISTINCT
    'borrowers' AS part, month, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, borrower_uscc AS uscc
FROM member_loans
ORDER BY 1, 2, 3, 4, 6, 7, 11
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链贷款与借款成员 / a chain's loans and its members with a loan, of a window in one "
        "statement ('loans' rows as chain_loans, 'borrowers' rows as chain_member_borrowers)",
    )
)

CHAIN_CREDIT_COVERAGE = register(
    Query(
        name="chain_credit_coverage",
        sql=f"""
-- Members per (effective) segment and how many of them borrowed in the window (coverage = borrowers / members).
WITH {EFFECTIVE_MEMBERS.strip()}
SELECT
    m.segment, count(*) AS members,
    count(CASE WHEN m.uscc IN (
        SELECT borrower_uscc FROM loans WHERE month BETWEEN $from_month AND $to_month
    ) THEN 1 END) AS members_with_credit
FROM effective_members AS m
WHERE m.chain_code = $chain_code
GROUP BY m.segment
ORDER BY m.segment
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链信贷覆盖面 / members per segment and how many borrowed in the window",
    )
)


def rows(engine: Engine, name: str, **params: object) -> list[dict[str, object]]:
    return list(engine.run(name, **params).to_pylist())
