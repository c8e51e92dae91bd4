"""The refund rule's transfers held in memory, so a resident trace runs no statement for its refunds.

The rule (`tracing.refunds`) only finds a refund on an edge payee → payer when a transfer payee → payer is
*marked* (channel `reversal` or a refund word in the memo). So only the account pairs with at least one
marked transfer (in either direction) can ever give a refund; for every other pair the per-loan statement
(`tracing_pair_transfers`) returns rows the rule then discards. This keeps every transfer, both directions,
of the pairs with a marked transfer — read once per lake version with the resident context — and answers
`pair_movements` from it with the statement's filters (months and time range, both inclusive), in the
statement's (ts, txn_id) order. Pairs without a marked transfer answer nothing: the same refunds, fewer rows.

The mark is decided by `refunds.marked` itself (NFKC, case-folded words), once per distinct memo: the lake
has few distinct memos (thousands over millions of transfers), and DuckDB has no NFKC to do it in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jinyu.analytics import Engine, Query
from jinyu.analytics.layout import PARTITION_COLUMN
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from jinyu.risk.tracing import refunds
from jinyu.risk.tracing.service.base import utc

# Memos travel as 'x' + hex of their UTF-8 bytes: no separator collides with a memo's own characters, and
# an empty list (split into one empty string) matches no memo.
_MEMOS = "SELECT DISTINCT memo FROM transfers WHERE memo IS NOT NULL"
_PAIRS = """
WITH m AS (
    SELECT DISTINCT from_account AS a, to_account AS b FROM transfers
    WHERE list_contains(string_split($channels, ','), channel)
       OR list_contains(string_split($memos, ','), 'x' || hex(memo))
), p AS (SELECT a, b FROM m UNION SELECT b, a FROM m)
SELECT t.txn_id, t.ts, t.from_account, t.to_account, CAST(t.amount * 100 AS BIGINT) AS amount_fen,
       t.channel, t.memo, t.month
FROM transfers AS t JOIN p ON t.from_account = p.a AND t.to_account = p.b
ORDER BY t.ts, t.txn_id
"""
# A lake without transfers yet reads as an empty table (the context of such a lake still builds).
_OPTIONAL = {
    "transfers": arrow_schema(CONTRACTS["transfers"]).append(pa.field(PARTITION_COLUMN, pa.string()))
}
_DESCRIPTION = "常驻退款识别所需的转账 / transfers the resident refund rule needs"


@dataclass
class ReversalPairs:
    """Every transfer of the account pairs with a marked transfer, by (from, to), in (ts, txn_id) order."""

    by_pair: dict[tuple[str, str], tuple[tuple[str, refunds.Movement], ...]] = field(default_factory=dict)

    def movements(
        self,
        pairs: list[tuple[str, str]],
        window: tuple[dt.datetime, dt.datetime],
        months: tuple[str, str],
    ) -> list[refunds.Movement]:
        """`service.refund.pair_movements` from memory: both directions of each (payee, payer) pair."""
        both = sorted({d for payee, payer in pairs for d in ((payee, payer), (payer, payee))})
        low, high = utc(window[0]), utc(window[1])
        found = [
            m
            for d in both
            for month, m in self.by_pair.get(d, ())
            if months[0] <= month <= months[1] and low <= utc(m.ts) <= high
        ]
        found.sort(key=lambda m: (utc(m.ts), m.txn_id))
        return found

    @property
    def transfers(self) -> int:
        return sum(len(v) for v in self.by_pair.values())


def load(engine: Engine) -> ReversalPairs:
    memos = _run(engine, "tracing_resident_memos", _MEMOS, {})
    marked = ["x" + str(r["memo"]).encode().hex().upper() for r in memos if refunds.marked(None, r["memo"])]
    params = {"channels": ",".join(refunds.CHANNELS), "memos": ",".join(marked)}
    by_pair: dict[tuple[str, str], list[tuple[str, refunds.Movement]]] = defaultdict(list)
    for r in _run(engine, "tracing_resident_reversal_pairs", _PAIRS, params):
        move = refunds.movements([r])[0]
        by_pair[(move.src, move.dst)].append((str(r["month"]), move))
    return ReversalPairs({k: tuple(v) for k, v in by_pair.items()})  # tuples, as `tables.Tables`


def _run(engine: Engine, name: str, sql: str, params: dict[str, str]) -> list[dict[str, Any]]:
    query = Query(
        name=name, sql=sql, params=dict.fromkeys(params, str), description=_DESCRIPTION, optional=_OPTIONAL
    )
    return list(engine.run_query(query, **params).to_pylist())
