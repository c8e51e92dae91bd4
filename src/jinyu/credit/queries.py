"""The card's named analytics query: every fact about one enterprise (or all of them) in one long table.

One statement reads all sources, each branch shaped into the same columns (`source` says which branch a row
came from and how its generic columns read; see docs/credit-card.md). One statement per card keeps a card to
one engine round trip; the bulk variant (no enterprise parameter, ordered by enterprise) feeds batch snapshots.
The datasets the card adds later than the foundation are optional: a lake without them reads them as empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from jinyu.analytics import Engine, Query, register
from jinyu.analytics.serving import ServingEngine
from jinyu.credit import bulk_sql, bulk_sql_records
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema

# Each branch: (source, FROM dataset, select list in the order of COLUMNS after `source, uscc`).
_V, _D, _N, _M = (
    "CAST(NULL AS VARCHAR)",
    "CAST(NULL AS DATE)",
    "CAST(NULL AS BIGINT)",
    "CAST(NULL AS DECIMAL(18,2))",
)
COLUMNS = ("source", "uscc", "item", "on_date", "end_date", "period", "status", "amount", "amount2", "n1",
           "n2", "text", "text2", "text3")  # fmt: skip
_BRANCHES: tuple[tuple[str, str, str], ...] = (
    ("enterprise", "enterprises",
     f"industry_code, established_on, {_D}, district_code, status, registered_capital, {_M}, {_N}, {_N}, "
     "name, address, legal_rep_name"),
    ("shareholder", "shareholders",
     f"holder_type, {_D}, {_D}, {_V}, {_V}, share_ratio, {_M}, {_N}, {_N}, holder_name, {_V}, {_V}"),
    ("change", "registration_changes",
     f"item, changed_on, {_D}, {_V}, {_V}, {_M}, {_M}, {_N}, {_N}, before_value, after_value, {_V}"),
    ("tax", "tax_monthly",
     f"{_V}, {_D}, {_D}, period, {_V}, tax_paid, sales_declared, {_N}, {_N}, {_V}, {_V}, {_V}"),
    ("rating", "tax_credit_ratings",
     f"{_V}, rated_on, {_D}, {_V}, rating, {_M}, {_M}, CAST(year AS BIGINT), {_N}, {_V}, {_V}, {_V}"),
    ("headcount", "headcount_monthly",
     f"{_V}, {_D}, {_D}, period, {_V}, provident_fund_amount, {_M}, CAST(social_insurance_count AS BIGINT), "
     f"CAST(provident_fund_count AS BIGINT), {_V}, {_V}, {_V}"),
    ("patent", "patents",
     f"kind, filed_on, granted_on, {_V}, {_V}, {_M}, {_M}, {_N}, {_N}, title, patent_no, {_V}"),
    ("trademark", "trademarks",
     f"{_V}, applied_on, registered_on, {_V}, {_V}, {_M}, {_M}, CAST(nice_class AS BIGINT), {_N}, mark_name, "
     f"reg_no, {_V}"),
    ("copyright", "copyrights",
     f"kind, registered_on, {_D}, {_V}, {_V}, {_M}, {_M}, {_N}, {_N}, title, reg_no, {_V}"),
    ("case", "judicial",
     f"case_type, filed_on, {_D}, {_V}, status, amount, {_M}, {_N}, {_N}, role, case_no, {_V}"),
    ("dishonest", "dishonest_debtors",
     f"{_V}, listed_on, removed_on, {_V}, {_V}, amount, {_M}, {_N}, {_N}, court, case_no, {_V}"),
    ("penalty", "admin_penalties",
     f"penalty_type, decided_on, {_D}, {_V}, {_V}, amount, {_M}, {_N}, {_N}, authority, decision_no, reason"),
    ("coverage", "source_coverage",
     f"source, as_of, {_D}, {_V}, CASE WHEN covered THEN 'covered' ELSE 'not_covered' END, {_M}, {_M}, "
     f"{_N}, {_N}, bureau, {_V}, {_V}"),
)  # fmt: skip
_OPTIONAL_DATASETS = (
    "registration_changes",
    "tax_credit_ratings",
    "trademarks",
    "copyrights",
    "dishonest_debtors",
    "admin_penalties",
    "source_coverage",
)


def _aliased(select: str) -> str:
    # Every branch names its columns, so the statement reads the same whichever branch comes first.
    exprs = select.split(", ")  # no expression above holds ", " inside it (DECIMAL(18,2) has no space)
    assert len(exprs) == len(COLUMNS) - 2, exprs
    return ", ".join(f"{e} AS {n}" for e, n in zip(exprs, COLUMNS[2:], strict=True))


def _sql(one: bool) -> str:
    where = " WHERE uscc = $uscc" if one else ""
    branches = [
        f"SELECT CAST('{source}' AS VARCHAR) AS source, uscc, {_aliased(select)} FROM {dataset}{where}"
        for source, dataset, select in _BRANCHES
    ]
    order = "" if one else "\nORDER BY uscc"
    return "\nUNION ALL\n".join(branches) + order + "\n"


_OPTIONAL = {name: arrow_schema(CONTRACTS[name]) for name in _OPTIONAL_DATASETS}

CARD_FACTS = register(
    Query(
        name="credit_card_facts",
        sql=_sql(one=True),
        params={"uscc": str},
        description="信用信息名片的全部事实 / every fact of one enterprise's credit card, one row per record",
        optional=_OPTIONAL,
    )
)
CARD_FACTS_ALL = register(
    Query(
        name="credit_card_facts_all",
        sql=_sql(one=False),
        params={},
        description="全部企业的名片事实（批量快照）/ the card facts of every enterprise, by enterprise",
        optional=_OPTIONAL,
    )
)


def card_facts(engine: Engine, uscc: str) -> list[dict[str, Any]]:
    """One enterprise's facts. A serving engine answers from the bulk result it holds per data version
    (rebuilt when a dataset's files change): planning the 13-branch statement cost more than its scans."""
    if isinstance(engine, ServingEngine):
        return engine.grouped(CARD_FACTS_ALL, "uscc").rows(uscc)
    rows: list[dict[str, Any]] = engine.run(CARD_FACTS.name, uscc=uscc).to_pylist()
    return rows


def all_card_facts(engine: Engine) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(uscc, facts) for every enterprise with any fact, in USCC order."""
    table: pa.Table = engine.run(CARD_FACTS_ALL.name)
    names = table.column_names
    key = names.index("uscc")
    current: str | None = None
    batch: list[dict[str, Any]] = []
    for piece in table.to_batches(max_chunksize=65_536):
        # Column by column, then zipped: a third of the time of `to_pylist()`'s row-by-row dicts.
        columns = [piece.column(i).to_pylist() for i in range(len(names))]
        for values in zip(*columns, strict=True):
            if values[key] != current:
                if current is not None:
                    yield current, batch
                current, batch = values[key], []
            batch.append(dict(zip(names, values, strict=True)))
    if current is not None:
        yield current, batch


# The batch snapshots' statement (bulk.py): every section of every enterprise with any fact, as canonical JSON.
_CARD_SECTIONS_SQL = bulk_sql.statement(
    [
        bulk_sql_records.registration(),
        bulk_sql.tax(),
        bulk_sql.headcount(),
        bulk_sql.ip(),
        bulk_sql_records.judicial(),
        bulk_sql_records.penalties(),
    ],
    tuple(dataset for _source, dataset, _select in _BRANCHES),
)
CARD_SECTIONS_ALL = register(
    Query(
        name="credit_card_sections_all",
        sql=_CARD_SECTIONS_SQL,
        params={},
        description="全部企业的名片各板块（JSON，批量快照）/ every section of every card as canonical JSON text "
        "(batch snapshots)",
        optional=_OPTIONAL,
    )
)
