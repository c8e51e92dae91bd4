"""The stored supply network: each month's decayed links of every chain, built set-based by the engine and kept
in the lake dataset `chain_network_links` (append-only; the latest build of a month wins). See docs/chains.md.

The build query applies the rule of `rules.decayed_links`: a link's weight as of month M is the sum over the
`network_window_months` months to M of that month's payments × decay^(months before M), rounded half-up to the
fen once, after summing. The factors decay^age go through a double (`power`) rounded to 12 places and back to
a decimal: exact whenever decay^(window−1) has at most 12 decimal places (0.8 over 6 months: 0.32768), which
`build_month` checks before it runs, so stored weights equal the Python rule's to the fen.

Each link also carries its ends as **dense integer node ids** (`payer_id`, `payee_id`): per chain and month, the
network's enterprises numbered 0..n−1 in USCC order, given once by the build. Links sorted by USCC are then
sorted by id too, and the id → enterprise map is the sorted list of the month's USCCs, so a stored month is
ranked from the columns as arrays (`jinyu.chain.id_links`): no numbering, no sort at each ranking. A lake whose
`chain_network_links` files were written before the ids keeps its schema (the lake refuses a file with other
columns), so its builds go on without ids and are ranked from names as before (`carries_ids`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jinyu.analytics import Engine, Lake, Month, Query, register
from jinyu.chain import pairs, rules
from jinyu.chain.definitions import Parameters
from jinyu.chain.queries import ENTERPRISE_ACCOUNTS
from jinyu.core.clock import utcnow
from jinyu.core.errors import invalid

DATASET = "chain_network_links"
FACTOR_PLACES = 12
MONEY = pa.decimal128(38, 2)
DECAY = pa.decimal128(10, 6)
SCHEMA = pa.schema(
    [
        ("as_of_month", pa.string()),  # the partition: the month the weights are as of
        ("chain_code", pa.string()),
        ("payer", pa.string()),  # null with payee in the one marker row per chain and build
        ("payee", pa.string()),
        ("weight", MONEY),
        ("decay", DECAY),
        ("window_months", pa.int32()),
        ("built_at", pa.timestamp("us", tz="UTC")),
        # Dense node ids of the chain's network in that month, 0..n-1 in USCC order; null in the marker row.
        ("payer_id", pa.int32()),
        ("payee_id", pa.int32()),
    ]
)
IDS = ("payer_id", "payee_id")
NAMES_ONLY_SCHEMA = pa.schema([f for f in SCHEMA if f.name not in IDS])  # builds made before the ids
VIEW_SCHEMA = SCHEMA.append(pa.field("month", pa.string()))  # engines add the partition directory

_AGE = (
    "(CAST(substr($as_of_month, 1, 4) AS INT) * 12 + CAST(substr($as_of_month, 6, 2) AS INT))"
    " - (CAST(substr(l.month, 1, 4) AS INT) * 12 + CAST(substr(l.month, 6, 2) AS INT))"
)

NETWORK_BUILD = register(
    Query(
        name="chain_network_build",
        sql=f"""
-- Every chain's supply-network edges as of $as_of_month: the same edges as `chain_member_links` (payments
-- between registered enterprises, one side a member of the chain), weighted by decay^(months before as_of).
WITH members AS (
    SELECT DISTINCT chain_code, uscc FROM chain_members
),
{ENTERPRISE_ACCOUNTS.strip()},
monthly AS (
    SELECT t.month, fa.uscc AS payer, ta.uscc AS payee, CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
    FROM transfers AS t
    JOIN ent_accounts AS fa ON fa.account_no = t.from_account
    JOIN ent_accounts AS ta ON ta.account_no = t.to_account
    WHERE t.month BETWEEN $from_month AND $as_of_month AND fa.uscc <> ta.uscc
    GROUP BY 1, 2, 3
),
touching AS (
    -- UNION, not UNION ALL: a payment between two members of one chain is one edge of it.
    SELECT m.chain_code, l.month, l.payer, l.payee, l.total_amount
    FROM monthly AS l JOIN members AS m ON m.uscc = l.payer
    UNION
    SELECT m.chain_code, l.month, l.payer, l.payee, l.total_amount
    FROM monthly AS l JOIN members AS m ON m.uscc = l.payee
),
aged AS (
    SELECT l.chain_code, l.payer, l.payee, l.total_amount, {_AGE} AS age
    FROM touching AS l
),
weighted AS (
    SELECT
        chain_code, payer, payee,
        CAST(round(sum(
            CAST(total_amount AS DECIMAL(24, 2))
            * CAST(round(power(CAST($decay AS DOUBLE), age), {FACTOR_PLACES}) AS DECIMAL(14, {FACTOR_PLACES}))
        ), 2) AS DECIMAL(38, 2)) AS weight
    FROM aged
    GROUP BY 1, 2, 3
),
nodes AS (
    SELECT chain_code, payer AS uscc FROM weighted
    UNION
    SELECT chain_code, payee AS uscc FROM weighted
),
node_ids AS (
    -- Dense ids 0..n-1 per chain in USCC order: sorted by USCC, the links are sorted by id as well.
    SELECT chain_code, uscc, CAST(row_number() OVER (PARTITION BY chain_code ORDER BY uscc) - 1 AS INT) AS node_id
    FROM nodes
)
SELECT w.chain_code, w.payer, w.payee, w.weight, a.node_id AS payer_id, b.node_id AS payee_id
FROM weighted AS w
JOIN node_ids AS a ON a.chain_code = w.chain_code AND a.uscc = w.payer
JOIN node_ids AS b ON b.chain_code = w.chain_code AND b.uscc = w.payee
ORDER BY 1, 2, 3
""",
        params={"from_month": Month, "as_of_month": Month, "decay": Decimal},
        description="产业链供应网络衰减边（全部产业链）/ every chain's decayed supply-network links as of a month",
    )
)

NETWORK_STORED = register(
    Query(
        name="chain_network_stored",
        sql="""
-- The latest build of one chain's network as of a month (its marker row, payer null, included: a build that
-- found no links is still a build). Empty when the month was never built.
WITH built AS (
    SELECT payer, payee, weight, decay, window_months, built_at
    FROM chain_network_links
    WHERE month = $as_of_month AND chain_code = $chain_code
),
latest AS (
    SELECT max(built_at) AS built_at FROM built
)
SELECT b.payer, b.payee, b.weight, b.decay, b.window_months, b.built_at
FROM built AS b JOIN latest AS l ON b.built_at = l.built_at
ORDER BY b.payer, b.payee
""",
        params={"chain_code": str, "as_of_month": Month},
        description="已存储的产业链供应网络（最新构建）/ the latest stored network of a chain as of a month",
        optional={DATASET: VIEW_SCHEMA},
    )
)


NETWORK_STORED_IDS = register(
    Query(
        name="chain_network_stored_ids",
        sql="""
-- The links of one build of one chain's network as of a month with their dense node ids (the marker row left
-- out): the arrays a stored month is ranked from. The build is named by its `built_at`, which the caller has
-- from `chain_network_stamp` (the key of the ranking), so the links read are those of that key even should a
-- rebuild land in between. A filtered scan, no join and no ORDER BY: a build's file is written sorted by
-- (payer, payee), which is the ids' order, and the ranking checks the order in one pass and sorts only if the
-- rows do not come in it (`network.sorted_links`; the ranking is the same either way). Only for a lake whose
-- builds carry the ids (`stored.carries_ids`); empty when that build found no links.
SELECT payer, payee, weight, payer_id, payee_id, built_at
FROM chain_network_links
WHERE month = $as_of_month AND chain_code = $chain_code AND built_at = $built_at AND payer IS NOT NULL
""",
        params={"chain_code": str, "as_of_month": Month, "built_at": dt.datetime},
        description="已存储供应网络的边及整数节点编号 / a chain's stored network links with their node ids",
        optional={DATASET: VIEW_SCHEMA},
    )
)


BUILDS = register(
    Query(
        name="chain_network_builds",
        sql="""
-- Per stored as-of month: its latest build's time and the parameters that build used.
WITH latest AS (
    SELECT month, max(built_at) AS built_at FROM chain_network_links GROUP BY month
)
SELECT DISTINCT l.month AS as_of_month, l.built_at, c.decay, c.window_months
FROM latest AS l
JOIN chain_network_links AS c ON c.month = l.month AND c.built_at = l.built_at
ORDER BY as_of_month
""",
        params={},
        description="已存储供应网络的各月最新构建 / the latest build of each stored network month",
        optional={DATASET: VIEW_SCHEMA},
    )
)


NETWORK_STAMP = register(
    Query(
        name="chain_network_stamp",
        sql="""
-- When the latest build of one chain's network as of a month was made, and with which parameters: the key of
-- the resident ranking (`jinyu.chain.resident`), read without reading the links. Empty when never built.
WITH latest AS (
    SELECT max(built_at) AS built_at FROM chain_network_links
    WHERE month = $as_of_month AND chain_code = $chain_code
)
SELECT DISTINCT c.built_at, c.decay, c.window_months
FROM chain_network_links AS c JOIN latest AS l ON c.built_at = l.built_at
WHERE c.month = $as_of_month AND c.chain_code = $chain_code
""",
        params={"chain_code": str, "as_of_month": Month},
        description="已存储供应网络的最新构建时间 / when a chain's stored network of a month was last built",
        optional={DATASET: VIEW_SCHEMA},
    )
)


def check_exact(p: Parameters) -> None:
    """Refuse parameters whose factors decay^age the build cannot carry exactly (see the module doc)."""
    oldest = p.decay_per_month ** (p.network_window_months - 1)
    if not 0 < p.decay_per_month <= 1 or -int(oldest.as_tuple().exponent) > FACTOR_PLACES:
        raise invalid(
            "decay_per_month",
            f"衰减系数的 {p.network_window_months - 1} 次方超过 {FACTOR_PLACES} 位小数，无法精确存储 / "
            f"decay^(window−1) = {oldest} needs more than {FACTOR_PLACES} decimal places",
        )


def build_month(
    engine: Engine,
    lake: Lake,
    month: str,
    chains: list[str],
    p: Parameters,
    before_append: Callable[[str, pa.Table, dt.datetime], None] | None = None,
) -> int:
    """Build every chain's network as of `month` and append it as a new load; returns the links written.
    The month's member-pair sums (`pairs`, which segment flows read) are rebuilt first: whatever makes the month's
    network due (its transfers, membership, ownership) makes its sums stale too (`due_months`).
    `before_append(month, links, built_at)` runs on the build's links (chain_code, payer, payee, weight,
    payer_id, payee_id; the rows `stored_links` will read) before they are appended, so a caller can hold what
    it derives from them (the scheduler: the month's ranking) before any reader sees the build."""
    check_exact(p)
    pairs.build_month(engine, lake, month)
    built_at = utcnow()
    links = engine.run(
        "chain_network_build",
        from_month=rules.add_months(month, 1 - p.network_window_months),
        as_of_month=month,
        decay=p.decay_per_month,
    )
    table = _table(links, chains, month, p, built_at)
    if not carries_ids(lake.root):  # a lake written before the ids keeps its schema
        table = table.drop_columns(list(IDS))
    if before_append is not None:
        before_append(month, links, built_at)
    load_id = f"chainnet-{month}-{built_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    lake.append(DATASET, table, load_id, partition_by="as_of_month", sort_by=["chain_code", "payer", "payee"])
    return int(links.num_rows)


def _table(links: pa.Table, chains: list[str], month: str, p: Parameters, built_at: dt.datetime) -> pa.Table:
    """The build's links and one marker row per chain, column by column (no Python object per link)."""
    n, k = links.num_rows, len(chains)

    def column(name: str, markers: pa.Array) -> pa.ChunkedArray:
        return pa.chunked_array([*links.column(name).cast(markers.type).chunks, markers], markers.type)

    data = {
        "as_of_month": pa.repeat(pa.scalar(month, pa.string()), n + k),
        "chain_code": column("chain_code", pa.array(chains, pa.string())),
        "payer": column("payer", pa.nulls(k, pa.string())),
        "payee": column("payee", pa.nulls(k, pa.string())),
        "weight": column("weight", pa.repeat(pa.scalar(Decimal("0.00"), MONEY), k)),
        "decay": pa.repeat(pa.scalar(p.decay_per_month, DECAY), n + k),
        "window_months": pa.repeat(pa.scalar(p.network_window_months, pa.int32()), n + k),
        "built_at": pa.repeat(pa.scalar(built_at, SCHEMA.field("built_at").type), n + k),
        "payer_id": column("payer_id", pa.nulls(k, pa.int32())),
        "payee_id": column("payee_id", pa.nulls(k, pa.int32())),
    }
    return pa.Table.from_pydict(
        {name: pc.cast(values, SCHEMA.field(name).type) for name, values in data.items()}, schema=SCHEMA
    )


def carries_ids(lake_root: Path) -> bool:
    """Do the lake's stored builds carry node ids: the dataset is new (a build will write them) or its files have
    them (every file of a dataset has the same columns)."""
    files = Lake(lake_root).files(DATASET)
    return not files or set(IDS) <= set(pq.read_schema(files[0]).names)


def stored_links(
    engine: Engine, code: str, as_of_month: str, p: Parameters
) -> dict[tuple[str, str], Decimal] | None:
    """The stored links of `code` as of the month, or None when it was not built with the current decay and
    window (never built, or built before chains.json changed): then the caller computes them."""
    table = engine.run("chain_network_stored", chain_code=code, as_of_month=as_of_month)
    if table.num_rows == 0:
        return None
    decay, window = table.column("decay")[0].as_py(), table.column("window_months")[0].as_py()
    if Decimal(str(decay)) != p.decay_per_month or window != p.network_window_months:
        return None
    # Column by column: a row dict per link (to_pylist of the table) cost more than the decay it saves.
    payers, payees = table.column("payer").to_pylist(), table.column("payee").to_pylist()
    weights = table.column("weight").to_pylist()
    return {(a, b): w for a, b, w in zip(payers, payees, weights, strict=True) if a is not None}


def stored_id_links(
    engine: Engine, lake_root: Path | None, code: str, as_of_month: str, built_at: dt.datetime
) -> pa.Table | None:
    """The links of the build of `code` as of the month made at `built_at` (the stamp of `current_stamp`), with
    their node ids (payer, payee, weight, payer_id, payee_id, built_at; in the file's order, which is the ids'),
    or None when the lake's builds carry no ids (or the engine has no lake of its own): then the caller reads
    `stored_links`. The caller has checked the build's parameters (`current_stamp`)."""
    if lake_root is None or not carries_ids(lake_root):
        return None
    return engine.run(NETWORK_STORED_IDS.name, chain_code=code, as_of_month=as_of_month, built_at=built_at)


def current_stamp(engine: Engine, code: str, as_of_month: str, p: Parameters) -> dt.datetime | None:
    """The time of the latest stored build of `code` as of the month when it was made with the current
    parameters (so `stored_links` would read it), else None."""
    rows = engine.run(NETWORK_STAMP.name, chain_code=code, as_of_month=as_of_month).to_pylist()
    if len(rows) != 1:
        return None
    row = rows[0]
    if Decimal(str(row["decay"])) != p.decay_per_month or row["window_months"] != p.network_window_months:
        return None
    built_at: dt.datetime = row["built_at"]
    return built_at
