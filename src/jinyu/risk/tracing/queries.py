"""Named analytics queries of fund-flow tracing, registered in `jinyu.analytics`' registry.

Tracing goes one hop at a time, one statement per hop for the whole frontier of every loan being traced (one
loan, or all loans of a batch): the frontier is aggregated per (loan, account) and travels as one bound text
parameter; paths are never enumerated. A hop statement joins the frontier with the transfers after each
node's arrival up to its loan's window end, splits each node's traced money over them by the policy and
returns the traced parts summed per (loan, src, dst), plus the nodes that are hubs. Classification, dust,
cycles and the next frontier are pure rules (`rules.trace_many`), so single loans and batches share one path.

Amounts are whole fen (BIGINT). A pro-rata part is floor(amount x traced / pool), computed exactly in both
engines: a double estimate corrected by the exact remainder in DECIMAL(38,0), because DuckDB divides
decimals in double precision and Spark has no 128-bit integer. Month partition bounds are bound parameters,
so only the months of the window are read.

    tracing_loan                      one loan, only if booked inside the caller's bank tree
    tracing_bank_tree                 a bank node and the nodes below it
    tracing_batch_loans               the loans of a bank tree disbursed in a period
    tracing_context_{mode}            one loan's related-party accounts (and, for misuse, shells' accounts);
                                      `loan_guarantees` and `related_parties` are optional: a lake
                                      without them has no guarantors and no declared related parties
    tracing_batch_context_{mode}      the same for every loan of a batch
    tracing_special_accounts          accounts of stop and prohibited categories (loan-independent)
    tracing_hop_{policy}              one hop of a frontier: traced parts per (loan, src, dst), and hubs
    tracing_hop_pro_rata_balance      the same by pro rata with the balance pool (pool_sql.py)
    tracing_accounts                  category and owner industry of the accounts shown as evidence
    tracing_pair_transfers            transfers between account pairs (the refund rule's candidates)

with mode `return_flow` or `misuse` and policy `pro_rata` or `fifo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jinyu.analytics import Engine, Month, Query, register
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from jinyu.risk.tracing.hop_sql import hop_sql as _hop_sql
from jinyu.risk.tracing.refunds_sql import PAIR_TRANSFERS as _PAIR_TRANSFERS
from jinyu.risk.tracing.related_sql import LINKED_RANKS as _LINKED_RANKS
from jinyu.risk.tracing.related_sql import OPTIONAL as _OPTIONAL
from jinyu.risk.tracing.related_sql import RELATED as _RELATED
from jinyu.risk.tracing.rules import (
    MODES,
    POLICIES,
    PROHIBITED_CATEGORIES,
    STOP_CATEGORIES,
)

LIST_SEPARATOR = ","
FIELD_SEPARATOR = "|"


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
_BATCH_PARAMS: dict[str, type] = {
    "loans_from_month": Month,
    "loans_to_month": Month,
    "disbursed_from": dt.datetime,
    "disbursed_to": dt.datetime,
}
_LOAN_PARAMS: dict[str, type] = {"root_code": str, "window_days": int, "shell_age_days": int}
_SHELL_PARAMS: dict[str, type] = {
    "new_since": dt.date,
    "until": dt.date,
    "act_from": Month,
    "to_month": Month,
}

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


def _context_sql(mode: str, *, batch: bool) -> str:
    """Related-party accounts (and shells' accounts) per loan: (loan, account, rank or shell flags)."""
    ctes = [_TREE.strip(), (_BATCH_LOANS if batch else _ONE_LOAN).strip(), _RELATED.strip()]
    body = """
SELECT 'related' AS row_type, r.loan_id, a.account_no, r.rel_rank, r.rel_source, a.owner_id, a.owner_type,
       a.owner_name, a.category, 0 AS shell_new, 0 AS shell_linked
FROM rel_owner AS r
JOIN accounts AS a ON a.owner_id = r.owner_id"""
    if mode == "misuse":
        ctes.append(_SHELLS.strip())
        body += """
UNION ALL
SELECT 'shell', sh.loan_id, a.account_no, NULL, NULL, a.owner_id, a.owner_type, a.owner_name, a.category,
       sh.is_new, sh.is_linked
FROM shell AS sh
JOIN accounts AS a ON a.owner_id = sh.uscc"""
    return (
        "WITH " + ",\n".join(ctes) + body + "\nORDER BY loan_id, row_type, account_no, rel_rank, rel_source\n"
    )


for _mode in MODES:
    _shells = _SHELL_PARAMS if _mode == "misuse" else {}
    _what = (
        "及空壳企业账户 / related-party and shell accounts"
        if _mode == "misuse"
        else " / related-party accounts"
    )
    register(
        Query(
            name=f"tracing_context_{_mode}",
            sql=_context_sql(_mode, batch=False),
            params={"loan_id": str, "loan_month": Month, **_LOAN_PARAMS, **_shells},
            description=f"单笔贷款的关联方账户{_what}",
            optional=_OPTIONAL,
        )
    )
    register(
        Query(
            name=f"tracing_batch_context_{_mode}",
            sql=_context_sql(_mode, batch=True),
            params={**_BATCH_PARAMS, **_LOAN_PARAMS, **_shells},
            description=f"批量贷款的关联方账户{_what}",
            optional=_OPTIONAL,
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


for _policy in POLICIES:
    register(
        Query(
            name=f"tracing_hop_{_policy}",
            sql=_hop_sql(_policy),
            params={"frontier": str, "from_month": Month, "to_month": Month, "hub_degree": int},
            description=f"一跳（{_policy}）：前沿各节点按策略分摊的追踪金额 / one hop of a frontier by the "
            f"{_policy} policy: traced parts per (loan, src, dst), and the hubs not followed",
        )
    )

# Balances of record came to the hub after the ledger: a lake without them reads the dataset as empty.
register(
    Query(
        name="tracing_hop_pro_rata_balance",
        sql=_hop_sql("pro_rata_balance"),
        params={"frontier": str, "from_month": Month, "to_month": Month, "hub_degree": int},
        description="一跳（比例法，含账户原有余额）/ one hop by pro rata with the balance pool: the money "
        "already in the account (balance of record rolled forward to the arrival) joins the pool",
        optional={"opening_balances": arrow_schema(CONTRACTS["opening_balances"])},
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

register(
    Query(
        name="tracing_pair_transfers",
        sql=_PAIR_TRANSFERS,
        params={
            "pairs": str,
            "from_ts": dt.datetime,
            "to_ts": dt.datetime,
            "from_month": Month,
            "to_month": Month,
        },
        description="账户对之间的交易（退款识别）/ transfers between account pairs, for the refund rule",
    )
)


# -- callers ----------------------------------------------------------------------------------------------


def loan(engine: Engine, loan_id: str, root_code: str) -> dict[str, Any] | None:
    rows = engine.run("tracing_loan", loan_id=loan_id, root_code=root_code).to_pylist()
    return dict(rows[0]) if rows else None


def bank_tree(engine: Engine, root_code: str) -> set[str]:
    return {str(r["org_code"]) for r in engine.run("tracing_bank_tree", root_code=root_code).to_pylist()}


def batch_loans(engine: Engine, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run("tracing_batch_loans", **params).to_pylist())


def context(engine: Engine, mode: str, params: Mapping[str, object], *, batch: bool) -> list[dict[str, Any]]:
    name = f"tracing_{'batch_' if batch else ''}context_{mode}"
    return list(engine.run(name, **params).to_pylist())


def special_accounts(engine: Engine) -> list[dict[str, Any]]:
    return list(engine.run("tracing_special_accounts").to_pylist())


def hop(engine: Engine, policy: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
    return list(engine.run(f"tracing_hop_{policy}", **params).to_pylist())


def accounts(engine: Engine, account_nos: list[str]) -> list[dict[str, Any]]:
    if not account_nos:
        return []
    return list(engine.run("tracing_accounts", accounts=LIST_SEPARATOR.join(account_nos)).to_pylist())


def pair_transfers(
    engine: Engine,
    pairs: list[tuple[str, str]],
    window: tuple[dt.datetime, dt.datetime],
    months: tuple[str, str],
) -> list[dict[str, Any]]:
    """Transfers src -> dst for each (src, dst) of `pairs` within `window` (inclusive)."""
    if not pairs:
        return []
    text = LIST_SEPARATOR.join(f"{a}{FIELD_SEPARATOR}{b}" for a, b in pairs)
    params = {
        "pairs": text,
        "from_ts": window[0],
        "to_ts": window[1],
        "from_month": months[0],
        "to_month": months[1],
    }
    return list(engine.run("tracing_pair_transfers", **params).to_pylist())
