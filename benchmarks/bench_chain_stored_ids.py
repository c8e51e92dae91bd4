"""Ranking a stored month from its links' dense node ids (`payer_id`, `payee_id`, `jinyu.chain.id_links`)
against ranking it from the names (`stored.stored_links` + `service.rank_links`: the path of builds made before
the ids, and the product's only path before them), in the same process, alternating rounds, medians.

One chain's stored month of `--nodes` enterprises / `--links` links (`chains_data.links_table`: the benchmarks'
generated links, weights to the fen) is written twice as a `chain_network_links` build: into a lake with the ids
and into one with the names-only schema. Each round times a cold ranking (nothing held, nothing kept) of each,
split into reading the links and ranking them; both rankings must be equal (`==` on every float and Decimal).
Then, as a worker that did not build meets it: the ranking kept in the results store beside the lake
(`resident.keep`, timed once per round) and read back (`resident.load`, checked equal), and the rows a page
shows (the first 10 members, as `Centrality` rows). The same file runs against another checkout's `src` on
`PYTHONPATH` (a baseline): a `Ranked` of `Centrality` objects is read through `.centralities`. Where the
checkout has `jinyu.chain.kept_links` (h-bl), the build's links are also kept as arrays beside the lake (once,
timed apart) and each round ranks cold from them too (`arrays_*`: read the kept arrays + rank), checked equal.

    uv run python benchmarks/bench_chain_stored_ids.py --nodes 200000 --links 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chains_data
from machine import calibration, machine_info, result_path

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.chain import definitions, id_links, resident, service, stored

try:  # the links kept as arrays beside the lake by the build (h-bl); a baseline checkout has none
    from jinyu.chain import kept_links
except ImportError:
    kept_links = None  # type: ignore[assignment]

RESULTS = Path(__file__).resolve().parent / "results"
CHAIN, MONTH = "new_display", "2024-06"
BUILT_AT = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
TOP = 10


def _id_links(engine: DuckDBEngine, root: Path) -> pa.Table:
    """The stored month's links with their ids, as the product reads them: with the build's stamp (this
    branch's statement names the build; a baseline's took the latest itself)."""
    if "built_at" in inspect.signature(stored.stored_id_links).parameters:
        stamp = stored.current_stamp(engine, CHAIN, MONTH, definitions.load().parameters)
        assert stamp is not None
        table = stored.stored_id_links(engine, root, CHAIN, MONTH, stamp)  # type: ignore[call-arg]
    else:
        table = stored.stored_id_links(engine, root, CHAIN, MONTH)  # type: ignore[call-arg]
    assert table is not None
    return table


def _kept_arrays(engine: DuckDBEngine, store: Any) -> Any:
    """The links kept as arrays, read as a cold ranking reads them: the stamp (the key) first, as `ids_read`."""
    stamp = stored.current_stamp(engine, CHAIN, MONTH, definitions.load().parameters)
    assert stamp is not None
    return kept_links.load(store, CHAIN, MONTH, stamp)


def _first_rows(ranked: Any, members: set[str]) -> list[Any]:
    """The first TOP members' rows, as `service.network_position` takes them (columnar or a tuple of rows)."""
    if hasattr(ranked, "first"):
        return list(ranked.first(TOP, members))
    return list(islice((c for c in ranked.centralities if c.uscc in members), TOP))


def _timed(fn: Any) -> tuple[float, float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _build_table(nodes: int, links: int, seed: int) -> pa.Table:
    """One build of CHAIN as of MONTH: the generated links with their ids (USCC order) and one marker row."""
    p = definitions.load().parameters
    con = duckdb.connect()
    try:
        chains_data.links_table(con, nodes, links, seed)
        table = con.sql(
            """
WITH names AS (
    SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS code
    FROM (SELECT payer AS name FROM links UNION SELECT payee FROM links)
)
SELECT l.payer, l.payee, CAST(l.weight AS DECIMAL(38, 2)) AS weight, p.code AS payer_id, q.code AS payee_id
FROM links AS l JOIN names AS p ON p.name = l.payer JOIN names AS q ON q.name = l.payee
ORDER BY l.payer, l.payee"""
        ).to_arrow_table()
    finally:
        con.close()
    n = table.num_rows + 1
    built_at = BUILT_AT

    def with_marker(name: str, typ: pa.DataType) -> pa.Array:
        return pa.concat_arrays([table.column(name).combine_chunks().cast(typ), pa.nulls(1, typ)])

    return pa.table(
        {
            "as_of_month": pa.repeat(pa.scalar(MONTH), n),
            "chain_code": pa.repeat(pa.scalar(CHAIN), n),
            "payer": with_marker("payer", pa.string()),
            "payee": with_marker("payee", pa.string()),
            "weight": with_marker("weight", stored.MONEY).fill_null(Decimal("0.00")),
            "decay": pa.repeat(pa.scalar(p.decay_per_month, stored.DECAY), n),
            "window_months": pa.repeat(pa.scalar(p.network_window_months, pa.int32()), n),
            "built_at": pa.repeat(pa.scalar(built_at, pa.timestamp("us", tz="UTC")), n),
            "payer_id": with_marker("payer_id", pa.int32()),
            "payee_id": with_marker("payee_id", pa.int32()),
        },
        schema=stored.SCHEMA,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--links", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="alternating rounds (medians are reported)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=result_path, default=RESULTS / "chain-stored-ids-h-bc.json")
    ap.add_argument("--label", default="", help="what `src` this run used (recorded in the JSON)")
    args = ap.parse_args()
    p = definitions.load().parameters
    result: dict[str, Any] = {"machine": machine_info(), "calibration_before": calibration()}
    result["parameters"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["src"] = str(Path(resident.__file__).resolve().parents[2])
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="jinyu-stored-ids-") as tmp:
        table = _build_table(args.nodes, args.links, args.seed)
        with_ids, names_only = Lake(Path(tmp) / "ids"), Lake(Path(tmp) / "names")
        for lake, t in ((with_ids, table), (names_only, table.drop_columns(list(stored.IDS)))):
            lake.append(
                stored.DATASET, t, "chainnet-bench", partition_by="as_of_month", sort_by=["chain_code"]
            )
        ids_engine, names_engine = DuckDBEngine(with_ids.root), DuckDBEngine(names_only.root)
        rounds: dict[str, list[tuple[float, float]]] = {
            k: []
            for k in (
                "names_read",
                "names_rank",
                "names_total",
                "ids_read",
                "ids_rank",
                "ids_total",
                "kept_write",
                "kept_read",
                "first_rows",
                "kept_read_and_rows",
                "arrays_read",
                "arrays_rank",
                "arrays_total",
            )
        }
        store = shared_results(with_ids.root)
        kept_key = service.resident_key(CHAIN, MONTH, BUILT_AT, p)
        members: set[str] | None = None
        try:
            # The links kept as arrays, as the build keeps them: once per build, not per ranking (not a round).
            if kept_links is not None:
                stamp = stored.current_stamp(ids_engine, CHAIN, MONTH, p)
                assert stamp is not None
                built = id_links.from_table(_id_links(ids_engine, with_ids.root))
                assert built is not None
                w0, c0, _ = _timed(partial(kept_links.keep, store, CHAIN, MONTH, stamp, built))
                result["arrays_keep"] = {"wall_s": round(w0, 3), "cpu_s": round(c0, 3)}
            for r in range(args.repeat):
                w1, c1, links = _timed(lambda: stored.stored_links(names_engine, CHAIN, MONTH, p))
                w2, c2, from_names = _timed(partial(service.rank_links, links, p))
                w3, c3, read = _timed(lambda: id_links.from_table(_id_links(ids_engine, with_ids.root)))
                w4, c4, from_ids = _timed(partial(service.rank_id_links, read, p))
                assert from_ids == from_names, "the rankings differ"
                if members is None:
                    names = read.names.to_pylist() if hasattr(read.names, "to_pylist") else list(read.names)
                    members = set(names[::2])  # every other node a member
                if kept_links is not None:  # a cold ranking reading the kept arrays, not the lake
                    w8, c8, arrays = _timed(partial(_kept_arrays, ids_engine, store))
                    w9, c9, from_arrays = _timed(partial(service.rank_id_links, arrays, p))
                    assert from_arrays == from_ids, "the ranking from the kept arrays differs"
                    for key, wall, cpu in (
                        ("arrays_read", w8, c8), ("arrays_rank", w9, c9), ("arrays_total", w8 + w9, c8 + c9)
                    ):  # fmt: skip
                        rounds[key].append((round(wall, 3), round(cpu, 3)))
                w5, c5, _ = _timed(partial(resident.keep, store, kept_key, from_ids))
                w6, c6, kept = _timed(partial(resident.load, store, kept_key))
                assert kept == from_ids, "the kept ranking differs"
                w7, c7, shown = _timed(partial(_first_rows, kept, members))
                assert len(shown) == TOP and shown == _first_rows(from_names, members)
                for key, wall, cpu in (
                    ("names_read", w1, c1),
                    ("names_rank", w2, c2),
                    ("names_total", w1 + w2, c1 + c2),
                    ("ids_read", w3, c3),
                    ("ids_rank", w4, c4),
                    ("ids_total", w3 + w4, c3 + c4),
                    ("kept_write", w5, c5),
                    ("kept_read", w6, c6),
                    ("first_rows", w7, c7),
                    ("kept_read_and_rows", w6 + w7, c6 + c7),
                ):
                    rounds[key].append((round(wall, 3), round(cpu, 3)))
                arrays = f", arrays {rounds['arrays_total'][-1]}" if rounds["arrays_total"] else ""
                print(
                    f"round {r + 1}: names {w1 + w2:.2f} s wall / {c1 + c2:.2f} CPU, ids {w3 + w4:.2f} / {c3 + c4:.2f}"
                    f" (rank {w4:.2f} / {c4:.2f}), kept read + {TOP} rows {w6 + w7:.3f} / {c6 + c7:.3f}{arrays}",
                    flush=True,
                )
                result["nodes"], result["links"] = from_ids.nodes, from_ids.links
        finally:
            ids_engine.close()
            names_engine.close()
    medians = {
        k: {"wall_s": statistics.median(w for w, _ in v), "cpu_s": statistics.median(c for _, c in v)}
        for k, v in rounds.items()
        if v
    }
    result.update(rounds=rounds, medians=medians, rankings_equal=True)
    result["ratio_names_over_ids"] = {
        "wall": round(medians["names_total"]["wall_s"] / medians["ids_total"]["wall_s"], 2),
        "cpu": round(medians["names_total"]["cpu_s"] / medians["ids_total"]["cpu_s"], 2),
    }
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["calibration_after"] = calibration()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: result[k] for k in ("medians", "ratio_names_over_ids", "nodes", "links")}, indent=2))


if __name__ == "__main__":
    main()
