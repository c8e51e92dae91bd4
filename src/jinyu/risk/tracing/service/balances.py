"""Balances of record held in memory: pro rata's `balance` pool on the resident transfer index, no statement.

The lake's statement (`pool_sql.HELD`, `tracing_hop_pro_rata_balance`) adds to a frontier node's pool what the
account held when the traced money arrived: its latest balance of record (`opening_balances`, `as_of` 00:00
Asia/Shanghai) at or before the arrival, plus receipts and minus payments from that instant until the arrival,
never below 0 (`tracer.Ledger.held` is the same in Python; tests hold the three equal). Here the balances are
read once per lake version with the resident context, as arrays sorted by (account, instant), and the
receipts and payments come from the index's running sums: a few numpy steps for the whole frontier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from jinyu.analytics import Engine, Query
from jinyu.analytics.flowindex import FlowIndex
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema

I64 = npt.NDArray[np.int64]
DATASET = "opening_balances"

# The statement's values: the instant as_of 00:00 Asia/Shanghai in µs since the epoch, the balance in fen.
# (account, as_of) is the dataset's key; of equal instants the larger balance sorts last, as Ledger.held's max.
_SCAN = """
SELECT account_no, epoch_us(CAST(as_of AS TIMESTAMP) - INTERVAL 8 HOUR) AS since_us,
       CAST(balance * 100 AS BIGINT) AS fen
FROM opening_balances
WHERE account_no IS NOT NULL AND as_of IS NOT NULL AND balance IS NOT NULL
"""


def _empty_accounts() -> npt.NDArray[np.bytes_]:
    return np.array([], dtype="S1")


def _empty() -> I64:
    return np.array([], dtype=np.int64)


@dataclass(frozen=True)
class Balances:
    """Every balance of record, one row each, sorted by (account, instant)."""

    accounts: npt.NDArray[np.bytes_] = field(default_factory=_empty_accounts)
    since: I64 = field(default_factory=_empty)
    fen: I64 = field(default_factory=_empty)

    def __len__(self) -> int:
        return int(self.since.shape[0])

    def latest(self, accounts: list[str], at: I64) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
        """Per account: the instant and balance of its latest balance of record at or before `at`, and
        whether it has one."""
        n = len(accounts)
        found = np.zeros(n, dtype=bool)
        since, fen = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        if n == 0 or len(self) == 0:
            return since, fen, found
        wanted = np.array([a.encode() for a in accounts], dtype=self.accounts.dtype)
        fits = np.array([len(a.encode()) <= self.accounts.dtype.itemsize for a in accounts], dtype=bool)
        lo = np.searchsorted(self.accounts, wanted, side="left")
        hi = np.searchsorted(self.accounts, wanted, side="right")
        hi = np.where(fits, hi, lo)  # a longer account number was truncated on the way in: never a match
        for i in np.flatnonzero(hi > lo).tolist():  # few frontier nodes have balances; each a short run
            p = int(lo[i]) + int(np.searchsorted(self.since[lo[i] : hi[i]], at[i], side="right"))
            if p > lo[i]:
                found[i], since[i], fen[i] = True, self.since[p - 1], self.fen[p - 1]
        return since, fen, found


def load(engine: Engine) -> Balances:
    query = Query(
        name="tracing_resident_opening_balances",
        sql=_SCAN,
        params={},
        description="常驻的账户期初余额 / balances of record for the resident balance pool",
        optional={DATASET: arrow_schema(CONTRACTS[DATASET])},
    )
    table = engine.run_query(query)
    if table.num_rows == 0:
        return Balances()
    accounts = np.array([a.encode() for a in table.column("account_no").to_pylist()])
    since = np.asarray(table.column("since_us").to_numpy(), dtype=np.int64)
    fen = np.asarray(table.column("fen").to_numpy(), dtype=np.int64)
    order = np.lexsort((fen, since, accounts))  # numpy's byte order is what searchsorted needs
    return Balances(accounts[order], since[order], fen[order])


def held(index: FlowIndex, balances: Balances, accounts: list[str], nodes: I64, arrived: I64) -> I64:
    """What each frontier account held when the traced money arrived (0 without a balance of record):
    balance + receipts - payments over [instant of the balance, arrival), not below 0. `nodes`: the accounts'
    indices in `index` (all >= 0)."""
    since, fen, found = balances.latest(accounts, arrived)
    out: I64 = np.zeros(len(accounts), dtype=np.int64)
    if not found.any():
        return out
    k = np.flatnonzero(found)
    got = index.in_before(nodes[k], since[k], arrived[k])
    paid = index.out_before(nodes[k], since[k], arrived[k])
    out[k] = np.maximum(0, fen[k] + got - paid)
    return out
