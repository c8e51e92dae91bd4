"""Industrial-chain analytics at the issue's sizes, each against its obvious alternative in the same run.

1. Monthly segment flows (`chain_segment_flows`, DuckDB over the Parquet lake) on --transfers transfers
   (20M: the large region's size) over --months months among --enterprises enterprises, against pandas doing
   the same joins and group-by on the same Parquet files (read included, as DuckDB reads them too; amounts
   turned into integer fen in Arrow, since Decimal objects would make pandas far slower still). Checked equal
   to the fen. Beside it, the window as the product serves it (`reads.monthly`: answers kept per month): the
   last month read alone (as after a load of it), all months held in memory, and from the kept files at a
   worker that holds none. --lake-dir keeps the generated lake and reuses it (same parameters), so runs
   alternated with a baseline time the same files; --no-pandas skips the pandas baseline.
2. Centrality on --nodes enterprises / --edges links (200k / 2M): integer codes dense-ranked in DuckDB SQL,
   then `network.rank_arrays` (links sorted by their ends, igraph graph, weighted PageRank both directions),
   against the previous construction (the links in the SQL's order as one edge array) on the same arrays,
   and taken apart step by step (centrality_steps.py); plus, on a
   --sample-nodes / --sample-edges subsample, `network.centrality` against NetworkX's pure-Python PageRank
   (checked equal to 1e-6; NetworkX at 2M links would take minutes per run, so it is not run there).
   Beside the codes, the links kept with dense integer ids given once and sorted (chains_data.kept_links):
   read and ranked, checked equal to the bit to the codes path.
3. Portraits: the scorecard fitted and applied to --members members (100k): `scorecard.fit`, `score_batch`,
   AUC, KS and calibration, against scoring member by member with `scorecard.score` (checked equal); after
   one untimed warm-up fit (the heavy imports).

The data is generated (seeded) in DuckDB, not by the synthetic region: see chains_data.py. Medians of
--repeat runs (the slow baselines: of max(1, repeat // 2)); wall and CPU seconds, load average before/after.

Usage: uv run python benchmarks/bench_chains.py [--only flows|centrality|portraits ...] [--repeat 3]
       [--lake-dir DIR] [--no-pandas]
Writes benchmarks/results/chains.json (or --out); the recorded figures: docs/chains.md, "Scale".
"""

from __future__ import annotations

import argparse
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

import duckdb
import igraph as ig
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from threadpoolctl import ThreadpoolController

sys.path.insert(0, str(Path(__file__).resolve().parent))
import centrality_steps
import chains_data
from machine import machine_info, python_loop_ms, result_path

from jinyu.analytics import DuckDBEngine, ResultCache
from jinyu.analytics import layout as lake_layout
from jinyu.chain import definitions, reads, scorecard
from jinyu.chain.network import DAMPING, centrality, rank_arrays

RESULTS = Path(__file__).resolve().parent / "results"


def _median(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Median wall and CPU seconds of `repeat` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3)}, result


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def flows_pandas(root: Path, first: str, last: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    import pandas as pd

    def read(dataset: str, columns: list[str], months: tuple[str, str] | None = None) -> pd.DataFrame:
        frames = []
        for path in lake_layout.data_files(root, dataset):
            month = path.parent.name.removeprefix("month=")
            if months and not months[0] <= month <= months[1]:
                continue  # partition pruning, as DuckDB does
            table = pq.read_table(path, columns=columns)
            if "amount" in columns:  # integer fen in Arrow: exact, and no Decimal objects in pandas
                fen = pc.cast(pc.multiply(table["amount"], 100), "int64")
                table = table.set_column(table.schema.get_field_index("amount"), "amount", fen)
            frame = table.to_pandas()
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
    g = t.groupby(["month", "from_segment", "to_segment"]).agg(n=("amount", "size"), fen=("amount", "sum"))
    return {k: (int(n), int(f)) for k, n, f in zip(g.index, g["n"], g["fen"], strict=True)}


def flows_duckdb(engine: DuckDBEngine, first: str, last: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = engine.run(
        "chain_segment_flows", chain_code="new_display", from_month=first, to_month=last, segment_overrides=""
    )
    return {
        (r["month"], r["from_segment"], r["to_segment"]): (r["txn_count"], int(r["total_amount"] * 100))
        for r in rows.to_pylist()
    }


def _lake(root: Path, args: argparse.Namespace) -> tuple[list[str], float | None]:
    """The generated lake's months, and how long building it took (None: an earlier run's lake, reused).

    A lake under --lake-dir is kept and reused when its parameters match (`params.json` beside it), so
    several runs (or a baseline and a branch, alternating) time the query on the same files."""
    wanted = {k: getattr(args, k) for k in ("enterprises", "transfers", "months", "seed")}
    stamp = root / "params.json"
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return chains_data.lake_months(args.months), None
    started = time.perf_counter()
    months = chains_data.build_lake(root, args.enterprises, args.transfers, args.months, args.seed)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return months, round(time.perf_counter() - started, 2)


def bench_flows(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = args.lake_dir or Path(tmp) / "lake"
        months, built = _lake(root, args)
        first, last = months[0], months[-1]
        engine = DuckDBEngine(root)
        duck, ours = _median(lambda: flows_duckdb(engine, first, last), args.repeat)
        served = flows_served(engine, root, Path(tmp) / "answers", first, last, ours, args.repeat)
        engine.close()
        if args.no_pandas:
            return {
                "transfers": args.transfers,
                "months": len(months),
                "lake_build_s": built,
                "duckdb": duck,
                "served": served,
            }
        pandas_t, theirs = _median(lambda: flows_pandas(root, first, last), max(1, args.repeat // 2))
    assert ours == theirs, "DuckDB and pandas disagree on the segment flows"
    print(f"segment flows, {args.transfers:,} transfers: DuckDB {duck}, pandas {pandas_t}")
    return {
        "transfers": args.transfers,
        "months": len(months),
        "enterprises": args.enterprises,
        "lake_build_s": built,
        "duckdb": duck,
        "pandas": pandas_t,
        "pandas_over_duckdb_wall": round(pandas_t["wall_s"] / duck["wall_s"], 1),
        "served": served,
        "groups": len(ours),
        "member_transfers": sum(n for n, _ in ours.values()),
        "equal": True,
    }


def flows_served(
    engine: DuckDBEngine,
    root: Path,
    store: Path,
    first: str,
    last: str,
    statement: dict[tuple[str, str, str], tuple[int, int]],
    repeat: int,
) -> dict[str, Any]:
    """How the product answers a request for the same window (`reads.monthly`, per-month answers kept in a
    `ResultCache`, on disk too): a month the last load added read alone (the other months held), the window
    from answers held in memory, and from the kept files at a worker that holds none. Checked equal to the
    statement's answer."""

    def answer(cache: ResultCache) -> dict[tuple[str, str, str], tuple[int, int]]:
        params = {"chain_code": "new_display", "from_month": first, "to_month": last, "segment_overrides": ""}
        table = reads.monthly(engine, cache, reads.FLOWS, params)
        return {
            (r["month"], r["from_segment"], r["to_segment"]): (r["txn_count"], int(r["total_amount"] * 100))
            for r in table.to_pylist()
        }

    cache = ResultCache(root, store=store)
    assert answer(cache) == statement, "the kept months' answer differs from the statement's"
    keys = reads._month_keys(
        cache,
        reads.FLOWS,
        {"chain_code": "new_display", "from_month": last, "to_month": last, "segment_overrides": ""},
    )

    def one_month_missing() -> dict[tuple[str, str, str], tuple[int, int]]:
        cache.discard(keys[last])  # as after a load of that month: its answer's key changed
        return answer(cache)

    new_month, _ = _median(one_month_missing, repeat)
    held, ours = _median(lambda: answer(cache), repeat)
    from_disk, theirs = _median(lambda: answer(ResultCache(root, store=store)), repeat)
    assert ours == theirs == statement
    print(f"segment flows served: last month read {new_month}, held {held}, kept files {from_disk}")
    return {
        "last_month_read_others_held": new_month,
        "held_in_memory": held,
        "kept_files_new_worker": from_disk,
    }


def rank_arrays_before(n: int, payer: np.ndarray, payee: np.ndarray, weight: np.ndarray) -> object:
    """The construction `rank_arrays` replaced: the links in the SQL's order, handed to igraph's `add_edges`
    as one (E, 2) array (one OpenMP thread, as the product)."""
    with ThreadpoolController().limit(limits=1, user_api="openmp"):
        graph = ig.Graph(n=n, directed=True)
        graph.add_edges(np.ascontiguousarray(np.column_stack([payer, payee]), dtype=np.int64))
        weights = weight.tolist()
        supplier = graph.pagerank(weights=weights, directed=True, damping=DAMPING, implementation="prpack")
        graph.reverse_edges()
        return supplier, graph.pagerank(
            weights=weights, directed=True, damping=DAMPING, implementation="prpack"
        )


def pagerank_networkx(links: dict[tuple[str, str], Decimal]) -> dict[str, float]:
    import networkx as nx
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    g = nx.DiGraph()
    g.add_weighted_edges_from((a, b, float(w)) for (a, b), w in links.items())
    return dict(_pagerank_python(g, weight="weight", tol=1e-10, max_iter=1000))


def bench_centrality(args: argparse.Namespace) -> dict[str, Any]:
    con = duckdb.connect()
    chains_data.links_table(con, args.nodes, args.edges, args.seed)
    codes, (n, payer, payee, weight) = _median(lambda: chains_data.link_codes(con), args.repeat)
    ranks, (supplier, buyer, _) = _median(lambda: rank_arrays(n, payer, payee, weight, False), args.repeat)
    before, (old_supplier, old_buyer) = _median(
        lambda: rank_arrays_before(n, payer, payee, weight), max(1, args.repeat // 2)
    )
    worst_full = float(
        max(
            np.max(np.abs(np.subtract(supplier, old_supplier))), np.max(np.abs(np.subtract(buyer, old_buyer)))
        )
    )
    print(f"centrality {len(payer):,} links / {n:,} nodes: codes {codes}, igraph {ranks}, before {before}")
    kept = bench_kept_ids(con, args, (n, payer, payee, weight), (supplier, buyer))
    steps = centrality_steps.breakdown(n, payer, payee, weight, args.repeat)
    print(f"centrality steps: {steps}")

    between = bench_betweenness(con, args)
    chains_data.links_table(con, args.sample_nodes, args.sample_edges, args.seed)
    sample = {
        (a, b): Decimal(str(round(w, 2)))
        for a, b, w in con.execute("SELECT payer, payee, weight FROM links").fetchall()
    }
    con.close()
    product, ours = _median(lambda: centrality(sample, betweenness_max_nodes=0), args.repeat)
    nx_t, theirs = _median(lambda: pagerank_networkx(sample), 1)
    worst = max(abs(c.pagerank_supplier - theirs[c.uscc]) for c in ours)
    assert worst < 1e-6, f"igraph and NetworkX PageRank differ by {worst}"
    print(f"centrality sample {len(sample):,} links: igraph {product}, NetworkX one way {nx_t}")
    return {
        "full": {
            "nodes": n,
            "links": len(payer),
            "sql_codes": codes,
            "igraph_rank_arrays": ranks,
            "total_wall_s": round(codes["wall_s"] + ranks["wall_s"], 3),
            "total_cpu_s": round(codes["cpu_s"] + ranks["cpu_s"], 3),
            "before_unsorted_edge_array": before,
            "before_over_now_wall": round(before["wall_s"] / ranks["wall_s"], 1),
            "max_abs_difference_before_now": worst_full,
            "steps": steps,
            "kept_ids": kept,
            "note": "PageRank both directions, graph building included; betweenness not computed; before: "
            "main's construction (links in the SQL's order, add_edges of one (E, 2) array)",
        },
        "betweenness_at_product_limit": between,
        "sample": {
            "nodes": len({x for pair in sample for x in pair}),
            "links": len(sample),
            "igraph_centrality": product,
            "networkx_one_direction": nx_t,
            "networkx_over_igraph_wall": round(nx_t["wall_s"] / product["wall_s"], 1),
            "max_abs_difference": worst,
            "note": "network.centrality from Decimal links (the product's entry), NetworkX pure-Python "
            "power iteration (SciPy is not installed)",
        },
    }


def bench_kept_ids(
    con: duckdb.DuckDBPyConnection,
    args: argparse.Namespace,
    coded: tuple[int, np.ndarray, np.ndarray, np.ndarray],
    ranked: tuple[list[float], list[float]],
) -> dict[str, Any]:
    """The same links kept with dense integer ids, sorted, given once when the links are made (not timed: a
    build's cost, as `chain_network_build`'s): reading them and ranking, against the codes path above. The
    ids are the codes' ids, so the ranks must be equal to the bit."""
    started = time.perf_counter()
    chains_data.kept_links(con)
    made = round(time.perf_counter() - started, 3)
    read, (n, payer, payee, weight) = _median(lambda: chains_data.kept_codes(con), args.repeat)
    ranks, (supplier, buyer, _) = _median(lambda: rank_arrays(n, payer, payee, weight, False), args.repeat)
    assert n == coded[0] and (supplier, buyer) == ranked, "kept ids rank otherwise than the codes"
    print(f"centrality from kept ids: read {read}, igraph {ranks} (ids given once: {made} s)")
    return {
        "ids_given_once_wall_s": made,
        "read_kept_ids": read,
        "igraph_rank_arrays": ranks,
        "total_wall_s": round(read["wall_s"] + ranks["wall_s"], 3),
        "total_cpu_s": round(read["cpu_s"] + ranks["cpu_s"], 3),
        "equal_to_codes_path": True,
    }


def bench_betweenness(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> dict[str, Any]:
    """Exact betweenness (what the product computes up to `betweenness_max_nodes`) at that many nodes and
    ten links a node: the cost that sets the limit."""
    nodes = definitions.load().parameters.betweenness_max_nodes
    chains_data.links_table(con, nodes, nodes * 10, args.seed)
    n, payer, payee, weight = chains_data.link_codes(con)
    timing, _ = _median(lambda: rank_arrays(n, payer, payee, weight, True), 1)
    print(f"PageRank + exact betweenness, {n:,} nodes / {len(payer):,} links: {timing}")
    return {"nodes": n, "links": len(payer), "pagerank_and_betweenness": timing}


def portraits_batch(rows: list[dict[str, float | None]], labels: list[int]) -> Any:
    model = scorecard.fit(rows, labels)
    scored = scorecard.score_batch(model, rows)
    probabilities = [s[0] for s in scored]
    evaluation = (
        scorecard.auc(probabilities, labels),
        scorecard.ks(probabilities, labels),
        scorecard.calibration(probabilities, labels),
    )
    return model, scored, evaluation


def portraits_calibrated(
    rows: list[dict[str, float | None]],
    labels: list[int],
    later: list[dict[str, float | None]],
    later_labels: list[int],
) -> Any:
    """The portraits' default: fitted on one month, isotonic-calibrated on a later one, then scored."""
    model = scorecard.calibrate(scorecard.fit(rows, labels), later, later_labels, "isotonic")
    return model, scorecard.score_batch(model, later)


def bench_portraits(args: argparse.Namespace) -> dict[str, Any]:
    rows, labels = chains_data.portrait_features(args.members, args.seed)
    later, later_labels = chains_data.portrait_features(args.members, args.seed + 1)
    # Warm-up, not timed: the first fit imports optbinning, OR-Tools and scikit-learn (seconds), once a process.
    portraits_calibrated(rows[:2000], labels[:2000], later[:2000], later_labels[:2000])
    whole, (model, scored, (auc, ks, _)) = _median(lambda: portraits_batch(rows, labels), args.repeat)
    calibrated_timing, (calibrated, calibrated_scored) = _median(
        lambda: portraits_calibrated(rows, labels, later, later_labels), args.repeat
    )
    assert calibrated.isotonic is not None
    assert calibrated_scored == [scorecard.score(calibrated, r) for r in later], (
        "isotonic batch != one by one"
    )
    batch, _ = _median(lambda: scorecard.score_batch(model, rows), args.repeat)
    one_by_one, theirs = _median(lambda: [scorecard.score(model, r) for r in rows], max(1, args.repeat // 2))
    assert scored == theirs, "score_batch and per-member score disagree"
    print(
        f"portraits {len(rows):,}: fit+score+evaluate {whole}; fit+isotonic on a second month+score "
        f"{calibrated_timing}; scoring batch {batch}, one by one {one_by_one}"
    )
    return {
        "fit_isotonic_score": calibrated_timing,
        "isotonic_over_uncalibrated_wall": round(calibrated_timing["wall_s"] / whole["wall_s"], 2),
        "members": len(rows),
        "bad": sum(labels),
        "fit_score_evaluate": whole,
        "score_batch": batch,
        "score_member_by_member": one_by_one,
        "member_by_member_over_batch_wall": round(one_by_one["wall_s"] / batch["wall_s"], 1),
        "note": "the fit bins every feature with optbinning's OptimalBinning (src/jinyu/chain/scorecard.py); "
        "the quantile-binning fit measured before it is gone from the product, so it is no baseline any more",
        "auc": round(auc or 0, 4),
        "ks": round(ks or 0, 4),
        "equal": True,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=60_000, help="the large region has 60k")
    ap.add_argument("--transfers", type=int, default=20_000_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--sample-nodes", type=int, default=20_000)
    ap.add_argument("--sample-edges", type=int, default=200_000)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=["flows", "centrality", "portraits"], action="append")
    ap.add_argument("--out", type=result_path, default=RESULTS / "chains.json")
    ap.add_argument(
        "--lake-dir",
        type=Path,
        help="keep the generated flows lake here and reuse it on later runs with the same parameters",
    )
    ap.add_argument("--no-pandas", action="store_true", help="flows: time DuckDB only (no pandas baseline)")
    args = ap.parse_args()
    parts = args.only or ["flows", "centrality", "portraits"]
    result: dict[str, Any] = {"machine": machine_info(), "calibration_python_loop_ms": python_loop_ms()}
    result["parameters"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["load_average_before"] = _load()
    benches = {"flows": bench_flows, "centrality": bench_centrality, "portraits": bench_portraits}
    for part in parts:
        result[part] = benches[part](args) | {"load_average_after": _load()}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
