"""The platform's own named queries; each `<name>.sql` file beside this module is one query.

Importing `jinyu.analytics` registers them. Domains register theirs from their own `queries.py`.
"""

from __future__ import annotations

from importlib.resources import files

from jinyu.analytics.params import Month, NonNegativeInt
from jinyu.analytics.registry import Query, register


def _sql(name: str) -> str:
    return (files(__name__) / f"{name}.sql").read_text(encoding="utf-8")


def _query(name: str, params: dict[str, type], description: str) -> Query:
    return register(Query(name=name, sql=_sql(name), params=params, description=description))


PAGE = {"limit": NonNegativeInt, "offset": NonNegativeInt}

ACCOUNTS_OF_BANK_TREE = _query(
    "accounts_of_bank_tree",
    {"head_code": str, **PAGE},
    "总行下各级机构开立的账户 / accounts opened at a head office, its branches and their outlets, "
    "by account_no",
)
ACCOUNTS_OF_OWNER = _query(
    "accounts_of_owner",
    {"owner_id": str, **PAGE},
    "某户主的账户 / accounts of one owner (USCC or resident ID), by account_no",
)
TRANSFER_MONTHLY_TOTALS = _query(
    "transfer_monthly_totals",
    {},
    "每月交易笔数与金额 / transfers per month: count and exact total amount",
)
ENTERPRISE_GOV_SUMMARY = _query(
    "enterprise_gov_summary",
    {"uscc": str, "as_of_month": Month},
    "企业政务数据摘要 / one enterprise as of a month: latest head-count, 12-month tax paid and "
    "declared sales, patents by kind, open judicial cases and amount",
)
CHAIN_SEGMENT_FLOWS = _query(
    "chain_segment_flows",
    {"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
    "产业链环节间资金流 / money between segments of an industrial chain per month: count and amount",
)
