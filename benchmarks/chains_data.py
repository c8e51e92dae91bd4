"""Generated inputs of bench_chains.py, made in DuckDB so that the large region's size is reachable.

Building the large synthetic region takes long and its chains are a small part of it, so the lake here is
written straight by DuckDB `COPY ... TO` in the lake's own layout (`<dataset>/month=YYYY-MM/part-*.parquet`,
the columns and types `Lake.append` writes): every figure is a function of the row number and the seed
(`hash`), so two runs see the same data.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

SEGMENTS = ("materials", "panels", "modules", "devices", "dealers")


def _copy(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")


def build_lake(root: Path, enterprises: int, transfers: int, months: int, seed: int) -> list[str]:
    """Accounts (one per enterprise), a quarter of the enterprises on the new-display chain, and
    `transfers` transfers spread evenly over `months` months of 2024 onwards; returns the months."""
    con = duckdb.connect()
    segments = "[" + ", ".join(f"'{s}'" for s in SEGMENTS) + "]"
    _copy(
        con,
        f"SELECT 'new_display' AS chain_code, '新型显示产业链' AS chain_name, "
        f"{segments}[i % 5 + 1] AS segment, printf('E%09d', i) AS uscc, i = 0 AS is_core "
        f"FROM range({enterprises // 4}) AS r(i)",
        root / "chain_members" / "part-B1.parquet",
    )
    _copy(
        con,
        f"SELECT printf('A%09d', i) AS account_no, 'enterprise' AS owner_type, printf('E%09d', i) AS owner_id "
        f"FROM range({enterprises}) AS r(i)",
        root / "accounts" / "part-B1.parquet",
    )
    per_month, out = transfers // months, lake_months(months)
    for m, month in enumerate(out):
        # Heavy-tailed payers (Pareto, shape 1.2), as in real ledgers: many transfers touch few accounts.
        u = f"((hash(i, {seed}, {m}, 1) % 1000000000) + 1) / 1e9"
        _copy(
            con,
            f"""
SELECT printf('T%02d%09d', {m}, i) AS txn_id,
    printf('A%09d', CAST(floor((pow({u}, -1 / 1.2) - 1) * 50) AS BIGINT) % {enterprises}) AS from_account,
    printf('A%09d', hash(i, {seed}, {m}, 2) % {enterprises}) AS to_account,
    CAST(CAST(100 + hash(i, {seed}, {m}, 3) % 9999900 AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS amount,
    TIMESTAMPTZ '{month}-15 04:00:00+00' AS ts  -- mid-month: the Shanghai month whatever the hour
FROM range({per_month}) AS r(i)
ORDER BY from_account""",
            root / "transfers" / f"month={month}" / f"part-T{m:02d}.parquet",
        )
    con.close()
    return out


def lake_months(months: int) -> list[str]:
    """The `months` months of `build_lake`, from 2024-01."""
    return [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]


def links_table(con: duckdb.DuckDBPyConnection, nodes: int, edges: int, seed: int) -> None:
    """`links(payer, payee, weight)`: `edges` distinct payer ≠ payee pairs among `nodes` USCC-like names,
    heavy-tailed payers, weights in yuan."""
    u = f"((hash(i, {seed}, 1) % 1000000000) + 1) / 1e9"
    con.execute(
        f"""
CREATE OR REPLACE TABLE links AS
WITH drawn AS (
    SELECT CAST(floor((pow({u}, -1 / 1.5) - 1) * 100) AS BIGINT) % {nodes} AS a,
        hash(i, {seed}, 2) % {nodes} AS b, (100 + hash(i, {seed}, 3) % 99999900) / 100.0 AS weight
    FROM range({int(edges * 1.3)}) AS r(i)
),
pairs AS (SELECT a, b, max(weight) AS weight FROM drawn WHERE a <> b GROUP BY a, b)
SELECT printf('91500000MA%08d', a) AS payer, printf('91500000MA%08d', b) AS payee, weight
FROM pairs ORDER BY hash(a, b, {seed}) LIMIT {edges}"""
    )


def link_codes(con: duckdb.DuckDBPyConnection) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The links as integer codes made in SQL (names dense-ranked), fetched as numpy arrays."""
    arrays = con.execute(
        """
WITH names AS (
    SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS code
    FROM (SELECT payer AS name FROM links UNION SELECT payee FROM links)
)
SELECT p.code AS payer, q.code AS payee, l.weight, (SELECT count(*) FROM names) AS n
FROM links AS l JOIN names AS p ON p.name = l.payer JOIN names AS q ON q.name = l.payee"""
    ).fetchnumpy()
    return int(arrays["n"][0]), arrays["payer"], arrays["payee"], arrays["weight"]


def kept_links(con: duckdb.DuckDBPyConnection) -> None:
    """`kept_links(payer_id, payee_id, weight)`: the links of `links` with their ends' dense integer ids (the
    names' order, as `link_codes` numbers them) given once, when the links are made, and kept with them sorted
    by (payer_id, payee_id): what a stored build could carry, so ranking needs neither the codes nor a sort."""
    con.execute(
        """
CREATE OR REPLACE TABLE kept_links AS
WITH names AS (
    SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS code
    FROM (SELECT payer AS name FROM links UNION SELECT payee FROM links)
)
SELECT p.code AS payer_id, q.code AS payee_id, l.weight
FROM links AS l JOIN names AS p ON p.name = l.payer JOIN names AS q ON q.name = l.payee
ORDER BY payer_id, payee_id"""
    )


def kept_codes(con: duckdb.DuckDBPyConnection) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The kept links as numpy arrays, in their kept order: no names, no ranking, no sort. The ids are dense
    over both ends, so the node count is the largest id plus one."""
    arrays = con.execute("SELECT payer_id, payee_id, weight FROM kept_links").fetchnumpy()
    payer, payee = arrays["payer_id"], arrays["payee_id"]
    n = int(max(payer.max(), payee.max())) + 1 if len(payer) else 0
    return n, payer, payee, arrays["weight"]


def portrait_features(members: int, seed: int) -> tuple[list[dict[str, float | None]], list[int]]:
    """Scorecard rows like `scoring.dataset`'s: ties (counts), missing values, a label driven by two."""
    rng = np.random.default_rng(seed)

    def maybe(values: np.ndarray, missing: float) -> list[float | None]:
        gone = rng.random(members) < missing
        return [None if g else float(v) for v, g in zip(values, gone, strict=True)]

    cases = rng.choice([0, 0, 0, 0, 1, 2], members).astype(float)
    paying = rng.integers(0, 7, members).astype(float)
    columns = {
        "headcount_change": maybe(np.round(rng.normal(0, 0.3, members), 2), 0.2),
        "tax_change": maybe(rng.normal(0, 0.5, members), 0.3),
        "open_cases": cases.tolist(),
        "paying_months": paying.tolist(),
        "pagerank_supplier": maybe(rng.pareto(1.5, members) / members, 0.1),
        "pagerank_buyer": maybe(rng.pareto(1.5, members) / members, 0.1),
        "suppliers": rng.poisson(4, members).astype(float).tolist(),
        "buyers": rng.poisson(3, members).astype(float).tolist(),
        "top_buyer_share": maybe(np.round(rng.beta(2, 2, members), 4), 0.15),
    }
    risk = 0.8 * cases - 0.4 * paying + 0.5
    labels = (rng.random(members) < 1 / (1 + np.exp(-risk))).astype(int).tolist()
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return rows, labels
