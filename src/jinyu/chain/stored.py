"""The stored supply network: each month's decayed links of every chain, built set-based by the engine and kept
in the lake dataset `chain_network_links` (append-only; the latest build of a month wins). See docs/chains.md.

The build query applies the rule of `rules.decayed_links`: a link's weight as of month M is the sum over the
`network_window_months` months to M of that month's payments × decay^(months before M), rounded half-up to the
fen once, after summing. The factors decay^age go through a double (`power`) rounded to 12 places and back to
a decimal: exact whenever decay^(window−1) has at most 12 decimal places (0.8 over 6 months: 0.32768), which
`build_month` checks before it runs, so stored weights equal the Python rule's to the fen.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

import pyarrow as pa

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
    ]
)
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
)
SELECT
    chain_code, payer, payee,
    CAST(round(sum(
        CAST(total_amount AS DECIMAL(24, 2))
        * CAST(round(power(CAST($decay AS DOUBLE), age), {FACTOR_PLACES}) AS DECIMAL(14, {FACTOR_PLACES}))
    ), 2) AS DECIMAL(38, 2)) AS weight
FROM aged
GROUP BY 1, 2, 3
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
    `before_append(month, links, built_at)` runs on the build's links (chain_code, payer, payee, weight; the
    rows `stored_links` will read) before they are appended, so a caller can hold what it derives from them
    (the scheduler: the month's ranking) before any reader sees the build."""
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
    if before_append is not None:
        before_append(month, links, built_at)
    load_id = f"chainnet-{month}-{built_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    lake.append(DATASET, table, load_id, partition_by="as_of_month", sort_by=["chain_code", "payer", "payee"])
    return int(links.num_rows)


def _table(links: pa.Table, chains: list[str], month: str, p: Parameters, built_at: dt.datetime) -> pa.Table:
    n, k = links.num_rows, len(chains)
    data = {
        "as_of_month": [month] * (n + k),
        "chain_code": links.column("chain_code").to_pylist() + chains,
        "payer": links.column("payer").to_pylist() + [None] * k,
        "payee": links.column("payee").to_pylist() + [None] * k,
        "weight": links.column("weight").to_pylist() + [Decimal("0.00")] * k,
        "decay": [p.decay_per_month] * (n + k),
        "window_months": [p.network_window_months] * (n + k),
        "built_at": [built_at] * (n + k),
    }
    return pa.Table.from_pydict(data, schema=SCHEMA)


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
