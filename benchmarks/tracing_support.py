"""Helpers of the tracing benchmark: the region's lake, loan lists, and the NetworkX comparison.

Importable on their own (the tracing tests write the generated small region's lake with `write_lake`).
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jinyu.analytics import Engine, Lake, layout
from jinyu.analytics import duck as duck_sql
from jinyu.analytics.flowindex import FlowIndex
from jinyu.core.clock import SHANGHAI
from jinyu.core.privacy import PERSON_DOMAIN, pseudonymize
from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER
from jinyu.ingest.pipeline import ARROW_TYPES
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.related import RelatedSet
from jinyu.risk.tracing.schemas import TraceParams
from jinyu.risk.tracing.service import base, lake, resident
from jinyu.synth import generate

KEY = b"bench-pseudonym-key-0123456789abcdef"


# -- the region and its lake -----------------------------------------------------------------------------------


def write_lake(region: Path, root: Path, datasets: Sequence[str] = LOAD_ORDER) -> dict[str, float]:
    """Every dataset of a generated region (or those named) into the lake, protected as ingestion protects it."""
    lake, seconds = Lake(root), {}
    for name in datasets:
        started = time.perf_counter()
        contract = CONTRACTS[name]
        schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in contract.columns])
        if (region / f"{name}.csv").exists():
            options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
            table = pacsv.read_csv(region / f"{name}.csv", convert_options=options)
        elif (region / f"{name}.parquet").exists():
            table = pq.read_table(region / f"{name}.parquet")
        else:
            table = pq.read_table(region / name)
        table = _protect(name, table.select(schema.names).cast(schema))
        lake.append(
            name,
            table,
            "bench",
            partition_by=contract.partition_by,
            sort_by=contract.sort_by,
            mirrors=dict(contract.mirrors) or None,
        )
        seconds[name] = round(time.perf_counter() - started, 1)
    return seconds


def _protect(name: str, table: pa.Table) -> pa.Table:
    for column in CONTRACTS[name].columns:
        if column.protect is None or column.protect.value != "token":
            continue
        values = table.column(column.name).to_pylist()
        when = table.column(column.protect_if[0]).to_pylist() if column.protect_if else None
        tokens = [
            pseudonymize(KEY, v, PERSON_DOMAIN)
            if v is not None and (when is None or when[i] == "person")
            else v
            for i, v in enumerate(values)
        ]
        table = table.set_column(table.schema.get_field_index(column.name), column.name, pa.array(tokens))
    return table


def prepare(region: Path, root: Path, scale: str, seed: int, generate_region: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if generate_region:
        started = time.perf_counter()
        generate(region, scale, seed, progress=False)
        out["synth_seconds"] = round(time.perf_counter() - started, 1)
    if not layout.data_files(root, "transfers"):
        started = time.perf_counter()
        out["lake_write_seconds"] = write_lake(region, root)
        out["lake_write_total_seconds"] = round(time.perf_counter() - started, 1)
    return out


def _loans(root: Path) -> list[dict[str, Any]]:
    con = duckdb.connect()
    rows = con.sql(
        "SELECT l.loan_id, l.bank_code, l.disbursed_at, b.parent_code AS head "
        f"FROM {duck_sql.scan_sql(root, 'loans')} l JOIN {duck_sql.scan_sql(root, 'banks')} b "
        "ON b.org_code = l.bank_code ORDER BY l.loan_id"
    ).fetchall()
    return [{"loan_id": r[0], "bank_code": r[1], "disbursed_at": r[2], "head": r[3]} for r in rows]


def _pct(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# -- the NetworkX comparison ---------------------------------------------------------------------------------


class GraphHops:
    """The same hop semantics over a NetworkX MultiDiGraph (edge data: ts, txn_id, amount in fen)."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph

    def fetch(
        self, frontier: Sequence[rules.Frontier], settings: rules.TraceSettings
    ) -> dict[tuple[str, str], rules.Expansion]:
        out = {}
        for node in frontier:
            if node.account not in self.graph:
                continue
            edges = sorted(
                (d["ts"], d["txn_id"], v, d["amount"])
                for _u, v, d in self.graph.out_edges(node.account, data=True)
                if node.arrived < d["ts"] <= node.until
            )
            outs = [rules.Transfer(txn, ts, node.account, v, amount) for ts, txn, v, amount in edges]

            def inflow(n: rules.Frontier) -> int:
                return sum(
                    d["amount"]
                    for _u, _v, d in self.graph.in_edges(n.account, data=True)
                    if n.arrived <= d["ts"] <= n.until
                )

            out[(node.key, node.account)] = rules.expand(node, outs, inflow, settings)
        return out


def networkx_comparison(
    engine: Engine, root: Path, sample: Sequence[Mapping[str, Any]], index: FlowIndex | None
) -> dict[str, Any]:
    """The same loans traced over the lake and over a NetworkX graph: identical node rows, and the times."""
    months = sorted({m for x in sample for m in _months_of(x["disbursed_at"])})
    started = time.perf_counter()
    con = duckdb.connect()
    table = con.sql(
        f"SELECT txn_id, ts, from_account, to_account, amount FROM {duck_sql.scan_sql(root, 'transfers')} "
        f"WHERE month >= '{months[0]}' AND month <= '{months[-1]}'"
    ).to_arrow_table()
    graph = nx.MultiDiGraph()
    fen = pc.cast(pc.multiply(table.column("amount"), 100), pa.int64()).to_pylist()
    for txn, ts, src, dst, amount in zip(
        table.column("txn_id").to_pylist(),
        table.column("ts").to_pylist(),
        table.column("from_account").to_pylist(),
        table.column("to_account").to_pylist(),
        fen,
        strict=True,
    ):
        graph.add_edge(src, dst, ts=ts, txn_id=txn, amount=amount)
    build = time.perf_counter() - started
    del table
    stores, params = service.Stores(engine, root, KEY), TraceParams()
    settings = lake.settings_for(params)
    graph_source, lake_times, graph_times, equal = GraphHops(graph), [], [], 0
    resident_times: list[float] = []
    for item in sample:
        bank = str(item["bank_code"])
        loan = queries.loan(engine, str(item["loan_id"]), bank)
        assert loan is not None
        t0 = base.utc(loan["disbursed_at"])
        window = (str(loan["loan_month"]), base.month_of(t0 + dt.timedelta(days=30)))
        context = queries.context(
            engine,
            "return_flow",
            lake.context_params(loan, params, bank, "return_flow", window[1]),
            batch=False,
        )
        related, shells = lake.context_sets(context).get(str(loan["loan_id"]), (RelatedSet(), {}))
        start = lake.start_for(loan, "return_flow", related, shells, service.special_accounts(stores))
        started = time.perf_counter()
        on_lake = rules.trace_many(service.LakeHops(engine, "pro_rata", *window), [start], settings)[
            start.key
        ]
        lake_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        on_graph = rules.trace_many(graph_source, [start], settings)[start.key]
        graph_times.append(time.perf_counter() - started)
        key = lambda r: (r["hop"], r["account"], r["kind"], r["traced"])  # noqa: E731
        same = sorted(map(key, on_graph.nodes)) == sorted(map(key, on_lake.nodes))
        if index is not None:
            started = time.perf_counter()
            on_index = rules.trace_many(resident.ResidentHops(index, "pro_rata"), [start], settings)[
                start.key
            ]
            resident_times.append(time.perf_counter() - started)
            same = same and on_index.nodes == on_lake.nodes and on_index.edges == on_lake.edges
        equal += same
    return {
        "months": months,
        "transfers_in_graph": graph.number_of_edges(),
        "accounts_in_graph": graph.number_of_nodes(),
        "graph_build_seconds": round(build, 1),
        "loans": len(sample),
        "identical_results": equal,
        "hops_only_lake_p50_ms": _ms(statistics.median(lake_times)),
        "hops_only_networkx_p50_ms": _ms(statistics.median(graph_times)),
        "hops_only_networkx_p95_ms": _ms(_pct(graph_times, 95)),
        "ratio_networkx_to_lake_p50": round(
            statistics.median(graph_times) / statistics.median(lake_times), 2
        ),
        **(
            {
                "hops_only_resident_p50_ms": _ms(statistics.median(resident_times)),
                "ratio_networkx_to_resident_p50": round(
                    statistics.median(graph_times) / statistics.median(resident_times), 1
                ),
            }
            if resident_times
            else {}
        ),
    }


def _one_month(
    loans: Sequence[Mapping[str, Any]], sample: Sequence[Mapping[str, Any]], size: int, seed: int
) -> list[Mapping[str, Any]]:
    """Loans of one month (the commonest in the sample): their windows need two months of transfers, a
    graph NetworkX holds comfortably at every scale (about 1.7M edges at the large one)."""
    month = collections.Counter(_months_of(x["disbursed_at"])[0] for x in sample).most_common(1)[0][0]
    mine = [x for x in loans if _months_of(x["disbursed_at"])[0] == month]
    return random.Random(seed).sample(mine, min(size, len(mine)))


def _months_of(ts: dt.datetime) -> list[str]:
    local = ts.astimezone(SHANGHAI)
    end = local + dt.timedelta(days=30)
    return sorted({local.strftime("%Y-%m"), end.strftime("%Y-%m")})
