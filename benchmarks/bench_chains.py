"""Industrial-chain analytics: monthly segment flows and network centrality, each against its obvious
alternative measured in the same run.

1. Monthly flows between the segments of a chain (`chain_segment_flows`, DuckDB over the Parquet lake) for
   --months months of --transfers transfers among --enterprises enterprises, against pandas doing the same
   joins and group-by on the same Parquet files (read included, as DuckDB reads them too). Results are checked
   equal to the fen.
2. Weighted PageRank with python-igraph (what `jinyu.chain.network` uses) on a random directed graph of
   --nodes nodes and --edges edges, against NetworkX's pure-Python PageRank (SciPy is not installed) on the same
   graph; the ranks are checked equal to 1e-6. With --full-nodes/--full-edges, igraph alone on the target size
   (200k enterprises / 2M links).

The data is generated here (seeded), not by the synthetic region: the large region takes minutes to build and
its chains are a small part of it. Medians of --repeat runs.

Usage: uv run python benchmarks/bench_chains.py [--transfers 2000000] [--nodes 20000 --edges 200000]
Writes benchmarks/results/chains.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, python_loop_ms

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics import layout as lake_layout
from jinyu.chain.network import centrality, rank_arrays

RESULTS = Path(__file__).resolve().parent / "results"
SEGMENTS = ("materials", "panels", "modules", "devices", "dealers")


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def build_lake(root: Path, enterprises: int, transfers: int, months: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = np.array([f"E{i:09d}" for i in range(enterprises)])
    accounts = np.array([f"A{i:09d}" for i in range(enterprises)])
    lake = Lake(root)
    members = ids[: enterprises // 4]  # a quarter of the enterprises are on the chain
    lake.append(
        "chain_members",
        pa.table(
            {
                "chain_code": ["new_display"] * len(members),
                "chain_name": ["新型显示产业链"] * len(members),
                "segment": [SEGMENTS[i % len(SEGMENTS)] for i in range(len(members))],
                "uscc": members,
                "is_core": [i == 0 for i in range(len(members))],
            }
        ),
        "B1",
        partition_by=None,
        sort_by=(),
    )
    lake.append(
        "accounts",
        pa.table({"account_no": accounts, "owner_type": ["enterprise"] * enterprises, "owner_id": ids}),
        "B1",
        partition_by=None,
        sort_by=("account_no",),
    )
    per_month = transfers // months
    for m in range(months):
        month = f"2024-{m % 12 + 1:02d}" if months <= 12 else f"{2023 + m // 12}-{m % 12 + 1:02d}"
        # Heavy-tailed payers and payees, as in real ledgers: many transfers touch few accounts.
        payer = (rng.pareto(1.2, per_month) * 50).astype(np.int64) % enterprises
        payee = rng.integers(0, enterprises, per_month)
        fen = rng.integers(100, 10_000_000, per_month)
        table = pa.table(
            {
                "txn_id": pa.array([f"T{m:02d}{i:09d}" for i in range(per_month)]),
                "from_account": pa.array(accounts[payer]),
                "to_account": pa.array(accounts[payee]),
                "amount": pa.array([Decimal(int(f)) / 100 for f in fen], pa.decimal128(18, 2)),
                # Mid-month, so the Shanghai month is the month whatever the time of day.
                "ts": pa.array(
                    [dt.datetime.fromisoformat(f"{month}-15T04:00:00+00:00")] * per_month,
                    pa.timestamp("us", tz="UTC"),
                ),
            }
        )
        lake.append("transfers", table, f"T{m:02d}", partition_by="ts", sort_by=("from_account",))


def flows_pandas(root: Path, first: str, last: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    import pandas as pd

    def read(dataset: str, columns: list[str], months: tuple[str, str] | None = None) -> pd.DataFrame:
        frames = []
        for path in lake_layout.data_files(root, dataset):
            month = path.parent.name.removeprefix("month=")
            if months and not months[0] <= month <= months[1]:
                continue  # partition pruning, as DuckDB does
            frame = pd.read_parquet(path, columns=columns)
            if months:
                frame["month"] = month
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    t = read("transfers", ["from_account", "to_account", "amount"], (first, last))
    accounts = read("accounts", ["account_no", "owner_id"])
    members = read("chain_members", ["uscc", "segment", "chain_code"])
    members = members[members["chain_code"] == "new_display"][["uscc", "segment"]]
    seg = accounts.merge(members, left_on="owner_id", right_on="uscc")[["account_no", "segment"]]
    t = t.merge(
        seg.rename(columns={"account_no": "from_account", "segment": "from_segment"}), on="from_account"
    )
    t = t.merge(seg.rename(columns={"account_no": "to_account", "segment": "to_segment"}), on="to_account")
    t["fen"] = t["amount"].map(lambda d: int(d * 100)) if t["amount"].dtype == object else t["amount"] * 100
    g = t.groupby(["month", "from_segment", "to_segment"]).agg(n=("fen", "size"), fen=("fen", "sum"))
    return {k: (int(v.n), int(v.fen)) for k, v in g.iterrows()}


def flows_duckdb(engine: DuckDBEngine, first: str, last: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = engine.run("chain_segment_flows", chain_code="new_display", from_month=first, to_month=last)
    return {
        (r["month"], r["from_segment"], r["to_segment"]): (r["txn_count"], int(r["total_amount"] * 100))
        for r in rows.to_pylist()
    }


def random_links(nodes: int, edges: int, seed: int) -> dict[tuple[str, str], Decimal]:
    rng = np.random.default_rng(seed)
    names = [f"N{i:07d}" for i in range(nodes)]
    a = (rng.pareto(1.5, edges * 2) * 100).astype(np.int64) % nodes
    b = rng.integers(0, nodes, edges * 2)
    w = rng.integers(100, 10**8, edges * 2)
    links: dict[tuple[str, str], Decimal] = {}
    for x, y, z in zip(a, b, w, strict=True):
        if x != y and len(links) < edges:
            links[(names[x], names[y])] = Decimal(int(z)) / 100
    return links


def pagerank_networkx(links: dict[tuple[str, str], Decimal]) -> dict[str, float]:
    import networkx as nx
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    g = nx.DiGraph()
    g.add_weighted_edges_from((a, b, float(w)) for (a, b), w in links.items())
    return dict(_pagerank_python(g, weight="weight", tol=1e-10, max_iter=1000))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=20_000)
    ap.add_argument("--transfers", type=int, default=2_000_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--nodes", type=int, default=20_000)
    ap.add_argument("--edges", type=int, default=200_000)
    ap.add_argument("--full-nodes", type=int, default=0, help="igraph alone on this many nodes (e.g. 200000)")
    ap.add_argument("--full-edges", type=int, default=0, help="and this many links (e.g. 2000000)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine_info(), "calibration_python_loop_ms": python_loop_ms()}
    result["parameters"] = vars(args)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        started = time.perf_counter()
        build_lake(root, args.enterprises, args.transfers, args.months, args.seed)
        result["lake_build_s"] = round(time.perf_counter() - started, 2)
        first, last = "2024-01", f"2024-{min(args.months, 12):02d}"
        engine = DuckDBEngine(root)
        duck_s, duck = _median(lambda: flows_duckdb(engine, first, last), args.repeat)
        pandas_s, pand = _median(lambda: flows_pandas(root, first, last), max(1, args.repeat // 2))
        engine.close()
        assert duck == pand, "DuckDB and pandas disagree on the segment flows"
        result["segment_flows"] = {
            "duckdb_median_s": round(duck_s, 3),
            "pandas_median_s": round(pandas_s, 3),
            "pandas_over_duckdb": round(pandas_s / duck_s, 1),
            "groups": len(duck),
            "equal": True,
        }
        print(f"segment flows: DuckDB {duck_s:.3f} s, pandas {pandas_s:.3f} s ({pandas_s / duck_s:.1f}×)")

    links = random_links(args.nodes, args.edges, args.seed)
    ig_s, ours = _median(lambda: centrality(links, betweenness_max_nodes=0), args.repeat)
    nx_s, theirs = _median(lambda: pagerank_networkx(links), 1)
    worst = max(abs(c.pagerank_supplier - theirs[c.uscc]) for c in ours)
    assert worst < 1e-6, f"igraph and NetworkX PageRank differ by {worst}"
    result["pagerank"] = {
        "nodes": len({n for pair in links for n in pair}),
        "links": len(links),
        "igraph_median_s": round(ig_s, 3),
        "igraph_note": "both directions (supplier and buyer PageRank), graph building included",
        "networkx_s": round(nx_s, 3),
        "networkx_note": "one direction, pure-Python power iteration",
        "networkx_over_igraph": round(nx_s / ig_s, 1),
        "max_abs_difference": worst,
    }
    print(f"PageRank {len(links)} links: igraph {ig_s:.3f} s, NetworkX {nx_s:.3f} s ({nx_s / ig_s:.1f}×)")
    if args.full_nodes and args.full_edges:
        # The target size on index arrays (what `network.rank_arrays` takes): no Decimal dict of 2M links.
        rng = np.random.default_rng(args.seed + 1)
        payer = (rng.pareto(1.5, args.full_edges) * 100).astype(np.int64) % args.full_nodes
        payee = rng.integers(0, args.full_nodes, args.full_edges)
        weight = rng.integers(100, 10**8, args.full_edges).astype(np.float64) / 100
        full_s, _ = _median(
            lambda: rank_arrays(args.full_nodes, payer, payee, weight, False), max(1, args.repeat // 2)
        )
        result["pagerank_full"] = {
            "nodes": args.full_nodes,
            "links": args.full_edges,
            "igraph_median_s": round(full_s, 3),
            "note": "rank_arrays: PageRank both directions on index arrays, graph building included",
        }
        print(f"PageRank {args.full_edges} links on {args.full_nodes} nodes: igraph {full_s:.3f} s")
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "chains.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
