"""Member-pair sums per month (`chain_member_pairs`): the derived lake dataset segment flows are read from.

`chain_segment_flows` scans every transfer of its window and probes the members' accounts with both ends; at
20M transfers that is ~0.8 s quiet for 12 months, too close to the 1 s goal on a slower machine (docs/chains.md,
"Scale"). Here the transfers between two accounts whose owners are members of any chain are summed once per
month and (payer, payee) enterprise when the month's network is built (`stored.build_month`, run after loads by
`network-build --due` or the scheduler); a window's flows are then a group-by of those sums joined to one
chain's effective segments (`chain_segment_flows_from_pairs`). Segments join after the sums, so segment
overrides need no rebuild; membership and ownership do, and a month's transfers do.

The dataset is append-only, partitioned by month; each build of a month writes its pairs and one marker row
(payer null: a month built with no pairs is still built), and the latest build of a month wins. A month's sums
are **current** when its latest build is newer than every file of that month's transfers and of
`chain_members` and `accounts` (file times, as `due_months` judges the network: the lake's files are written
once). `flows_query` names the pairs' statement only when every month of a window is current, else the
statement over the transfers — the two answer the same rows (tests/chain/test_pairs.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from jinyu.analytics import Engine, Lake, Month, Query, register
from jinyu.chain import rules
from jinyu.chain.queries import EFFECTIVE_MEMBERS
from jinyu.core.clock import utcnow

DATASET = "chain_member_pairs"
# Besides the month's transfers: who is a member, and which account is whose.
INPUTS = ("chain_members", "accounts")
STATEMENT = "chain_segment_flows"
FROM_PAIRS = "chain_segment_flows_from_pairs"
SCHEMA = pa.schema(
    [
        ("pairs_month", pa.string()),  # the partition: the transfers' month
        ("payer", pa.string()),  # null with payee in the one marker row per build
        ("payee", pa.string()),
        ("txn_count", pa.int64()),
        ("total_amount", pa.decimal128(38, 2)),
        ("built_at", pa.timestamp("us", tz="UTC")),
    ]
)
VIEW_SCHEMA = SCHEMA.append(pa.field("month", pa.string()))  # engines add the partition directory

PAIRS_BUILD = register(
    Query(
        name="chain_member_pairs_build",
        sql="""
-- One month's transfers between two accounts whose owners are members of any chain, summed per (payer, payee)
-- member: the rows of `chain_member_pairs`. Accounts join by owner as in chain_segment_flows (any owner type).
WITH members AS (
    SELECT DISTINCT uscc FROM chain_members
),
member_accounts AS (
    SELECT a.account_no, m.uscc FROM accounts AS a JOIN members AS m ON m.uscc = a.owner_id
)
SELECT p.uscc AS payer, q.uscc AS payee, count(*) AS txn_count,
    CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN member_accounts AS p ON p.account_no = t.from_account
JOIN member_accounts AS q ON q.account_no = t.to_account
WHERE t.month = $month
GROUP BY p.uscc, q.uscc
ORDER BY payer, payee
""",
        params={"month": Month},
        description="产业链成员间月度收付汇总 / one month's payments between chain members, per payer and payee",
    )
)

FLOWS_FROM_PAIRS = register(
    Query(
        name=FROM_PAIRS,
        sql=f"""
-- chain_segment_flows read from the member-pair sums (the latest build of each month): the same rows when
-- every month of the window is current (jinyu.chain.pairs.flows_query decides).
WITH {EFFECTIVE_MEMBERS.strip()},
members AS (
    SELECT uscc, segment FROM effective_members WHERE chain_code = $chain_code
),
latest AS (
    -- From the marker rows (one per build): the latest build of each month, without aggregating every pair.
    SELECT month, max(built_at) AS built_at FROM chain_member_pairs
    WHERE month BETWEEN $from_month AND $to_month AND payer IS NULL
    GROUP BY month
)
SELECT
    l.month,
    payer.segment AS from_segment,
    payee.segment AS to_segment,
    CAST(sum(l.txn_count) AS BIGINT) AS txn_count,
    CAST(sum(l.total_amount) AS DECIMAL(38, 2)) AS total_amount
FROM chain_member_pairs AS l
JOIN latest AS b ON b.month = l.month AND b.built_at = l.built_at
JOIN members AS payer ON payer.uscc = l.payer
JOIN members AS payee ON payee.uscc = l.payee
WHERE l.month BETWEEN $from_month AND $to_month
GROUP BY l.month, payer.segment, payee.segment
ORDER BY l.month, from_segment, to_segment
""",
        params={"chain_code": str, "from_month": Month, "to_month": Month, "segment_overrides": str},
        description="产业链环节间资金流（成员对月汇总）/ a chain's segment flows from the member-pair sums",
        optional={DATASET: VIEW_SCHEMA},
    )
)

PAIR_BUILDS = register(
    Query(
        name="chain_member_pairs_builds",
        sql="""
-- Per month of member-pair sums: its latest build's time (from the marker rows, one per build).
SELECT month, max(built_at) AS built_at FROM chain_member_pairs WHERE payer IS NULL GROUP BY month ORDER BY month
""",
        params={},
        description="成员对月汇总的各月最新构建 / the latest build of each month of member-pair sums",
        optional={DATASET: VIEW_SCHEMA},
    )
)


def build_month(engine: Engine, lake: Lake, month: str) -> int:
    """Sum `month`'s payments between members and append them as a new build; returns the pairs written."""
    built_at = utcnow()  # before reading: a file written during the build is newer, so the month stays due
    sums = engine.run(PAIRS_BUILD.name, month=month)
    n: int = sums.num_rows
    # Column by column in Arrow (no Python objects per pair: a month has hundreds of thousands at 20M transfers),
    # the marker row last.
    marker = pa.table(
        {"payer": [None], "payee": [None], "txn_count": [0], "total_amount": [Decimal("0.00")]},
        schema=SCHEMA.remove(5).remove(0),
    )
    body = pa.concat_tables([sums.select(marker.column_names).cast(marker.schema), marker])
    table = body.add_column(0, SCHEMA.field(0), pa.array([month] * (n + 1), pa.string())).append_column(
        SCHEMA.field(5), pa.array([built_at] * (n + 1), SCHEMA.field(5).type)
    )
    load_id = f"chainpairs-{month}-{built_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    lake.append(DATASET, table, load_id, partition_by="pairs_month", sort_by=["payer", "payee"])
    return n


def _written(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def stale_months(engine: Engine, lake: Lake, months: list[str]) -> list[str]:
    """The months of `months` with transfers whose sums are not current (module doc): never built, or a file
    of the month's transfers, of `chain_members` or of `accounts` written after its latest build."""
    # No files yet (an older lake): nothing is built, and no statement is run to learn it.
    built = (
        {str(r["month"]): r["built_at"] for r in engine.run(PAIR_BUILDS.name).to_pylist()}
        if lake.files(DATASET)
        else {}
    )
    shared = [_written(p) for name in INPUTS for p in lake.files(name)]
    newest: dict[str, dt.datetime] = {}
    for path in lake.files("transfers"):
        month = path.parent.name.removeprefix("month=")
        if month in months:
            newest[month] = max(newest.get(month, _written(path)), _written(path))
    return [m for m in months if m in newest and (m not in built or max([newest[m], *shared]) > built[m])]


def flows_query(engine: Engine, lake_root: Path | None, first: str, last: str) -> str:
    """The statement to read segment flows of months `first`..`last` with over the lake at `lake_root`: from the
    pairs when every month is current, else over the transfers (also when the lake is not known)."""
    if lake_root is None:
        return STATEMENT
    months = [rules.add_months(first, i) for i in range(rules.months_between(first, last) + 1)]
    return STATEMENT if stale_months(engine, Lake(lake_root), months) else FROM_PAIRS
