"""Fund-flow tracing (return flow and misappropriation): latency, batch throughput, memory, quality.

Measures on one synthetic region (generated here, or reused with --region/--lake):
- one-loan traces, 3 hops / 30 days / pro rata (the defaults): p50, p95, max over --loans sampled loans,
  with the per-statement breakdown (loan lookup, related-party context, each hop);
- a batch of --batch loans of one bank (one statement per hop per month of loans), per analysis;
- peak RSS of this process (generation and lake writing run in a child process), before the NetworkX graph;
- the same semantics in NetworkX (a MultiDiGraph of the months the sampled loans need, the rules' policy
  functions as the allocation) on the same loans: equal results and the time ratio;
- with --evaluate: precision and recall of the verdicts on the planted cases (risk_labels.csv) over every
  loan of the region.

The lake is written straight from the generator's files with `Lake.append` (personal identifiers
pseudonymized with the same keyed HMAC as ingestion): ingesting 20M transfers through the validating path
takes ~10 minutes (docs/architecture.md), which measures ingestion, not tracing.

--engine duckdb is the product's engine (views over the Parquet lake). --engine hot is a prototype of the
"hot tables" ARCHITECTURE.md describes but jinyu.analytics does not have yet: the datasets copied into
DuckDB tables sorted for point lookups. Both run the very same registered queries.

Usage: uv run python benchmarks/bench_tracing.py --scale medium [--evaluate] [--engine duckdb|hot]
Writes benchmarks/results/tracing-<scale>[-hot].json.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info

from jinyu.analytics import DuckDBEngine, Lake, layout
from jinyu.analytics import duck as duck_sql
from jinyu.core.clock import SHANGHAI
from jinyu.core.privacy import PERSON_DOMAIN, pseudonymize
from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER, Kind
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.related import RelatedSet
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service import base, lake, single
from jinyu.risk.tracing.service import batch as batch_mod
from jinyu.synth import generate
from jinyu.synth.risk_cases import LABELS_FILE, read_labels

RESULTS = Path(__file__).resolve().parent / "results"
KEY = b"bench-pseudonym-key-0123456789abcdef"
ARROW = {
    Kind.STRING: pa.string(),
    Kind.MONTH: pa.string(),
    Kind.INT: pa.int64(),
    Kind.DECIMAL: pa.decimal128(18, 2),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.BOOL: pa.bool_(),
}


# -- the region and its lake -----------------------------------------------------------------------------------


def write_lake(region: Path, root: Path) -> dict[str, float]:
    """Every dataset of a generated region into the lake, protected as ingestion protects it."""
    lake, seconds = Lake(root), {}
    for name in LOAD_ORDER:
        started = time.perf_counter()
        contract = CONTRACTS[name]
        schema = pa.schema([(c.name, ARROW[c.kind]) for c in contract.columns])
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


class HotEngine(DuckDBEngine):
    """Prototype (benchmark only): each dataset copied once into a DuckDB table sorted for point lookups."""

    kind = "duckdb-hot"
    SORT: ClassVar[dict[str, tuple[str, ...]]] = {
        "transfers": ("from_account", "ts"),
        "transfers_by_counterparty": ("to_account", "ts"),
        "accounts": ("account_no",),
        "enterprises": ("uscc",),
        "shareholders": ("uscc",),
    }

    def _create_view(self, con: duckdb.DuckDBPyConnection, dataset: str) -> None:
        order = self.SORT.get(dataset)
        clause = f" ORDER BY {', '.join(order)}" if order else ""
        con.execute(
            f"CREATE OR REPLACE TABLE {duck_sql.quote_ident(dataset)} AS SELECT * FROM "
            f"{duck_sql.scan_sql(self.lake_root, dataset)}{clause}"
        )
        self._views.add(dataset)


# -- timing ------------------------------------------------------------------------------------------------------


class Timings:
    """Wall time per registered query, recorded around the engine's `run`."""

    def __init__(self) -> None:
        self.by_query: dict[str, list[float]] = collections.defaultdict(list)

    @contextmanager
    def around(self, engine: DuckDBEngine) -> Iterator[None]:
        original = engine.run

        def run(name: str, /, **params: object) -> pa.Table:
            started = time.perf_counter()
            try:
                return original(name, **params)
            finally:
                self.by_query[name].append(time.perf_counter() - started)

        engine.run = run  # type: ignore[method-assign]
        try:
            yield
        finally:
            del engine.run

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: {"calls": len(v), "p50_ms": _ms(statistics.median(v)), "p95_ms": _ms(_pct(v, 95))}
            for name, v in sorted(self.by_query.items())
        }


def _pct(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _loans(root: Path) -> list[dict[str, Any]]:
    con = duckdb.connect()
    rows = con.sql(
        "SELECT l.loan_id, l.bank_code, l.disbursed_at, b.parent_code AS head "
        f"FROM {duck_sql.scan_sql(root, 'loans')} l JOIN {duck_sql.scan_sql(root, 'banks')} b "
        "ON b.org_code = l.bank_code ORDER BY l.loan_id"
    ).fetchall()
    return [{"loan_id": r[0], "bank_code": r[1], "disbursed_at": r[2], "head": r[3]} for r in rows]


def single_loans(
    engine: DuckDBEngine, root: Path, sample: Sequence[Mapping[str, Any]], mode: str
) -> tuple[dict[str, Any], dict[str, rules.Trace]]:
    stores = service.Stores(engine, root, KEY)
    params = TraceParams()
    timings, latencies, traces = Timings(), [], {}
    warm = queries.loan(engine, str(sample[0]["loan_id"]), str(sample[0]["bank_code"]))
    assert warm is not None
    service.trace_loan(
        stores, warm, params, mode, str(sample[0]["bank_code"])
    )  # views, special-account cache
    with timings.around(engine):
        for item in sample:
            started = time.perf_counter()
            loan = queries.loan(engine, str(item["loan_id"]), str(item["bank_code"]))
            assert loan is not None
            traced = service.trace_loan(stores, loan, params, mode, str(item["bank_code"]))
            single.evidence(
                stores, traced, ["returned"] if mode == "return_flow" else list(rules.MISUSE_KINDS), 5
            )
            latencies.append(time.perf_counter() - started)
            traces[str(item["loan_id"])] = traced.trace
    return {
        "loans": len(sample),
        "p50_ms": _ms(statistics.median(latencies)),
        "p95_ms": _ms(_pct(latencies, 95)),
        "max_ms": _ms(max(latencies)),
        "statements": timings.summary(),
    }, traces


def batch(engine: DuckDBEngine, root: Path, loans: Sequence[Mapping[str, Any]], size: int) -> dict[str, Any]:
    """The first `size` loans (by disbursement) of the bank with the most loans."""
    head = collections.Counter(str(x["head"]) for x in loans).most_common(1)[0][0]
    mine = sorted((x for x in loans if x["head"] == head), key=lambda x: x["disbursed_at"])
    limit = mine[0]["disbursed_at"] + dt.timedelta(days=365)  # a batch covers at most a year
    mine = [x for x in mine if x["disbursed_at"] < limit][:size]
    first = mine[0]["disbursed_at"].astimezone(SHANGHAI).date()
    last = mine[-1]["disbursed_at"].astimezone(SHANGHAI).date()
    stores = service.Stores(engine, root, KEY)
    out: dict[str, Any] = {"bank": head, "from": first.isoformat(), "to": last.isoformat()}
    for analyses in (["return_flow"], ["misuse"], ["return_flow", "misuse"]):
        request = BatchRequest(from_date=first, to_date=last, analyses=analyses)  # type: ignore[arg-type]
        start = dt.datetime.combine(first, dt.time(), SHANGHAI).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)
        started = time.perf_counter()
        rows = queries.batch_loans(
            engine,
            {
                "root_code": head,
                "loans_from_month": start.astimezone(SHANGHAI).strftime("%Y-%m"),
                "loans_to_month": (end - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).strftime("%Y-%m"),
                "disbursed_from": start,
                "disbursed_to": end,
            },
        )
        found = service.trace_batch(stores, head, rows, request, start, end)
        results = [batch_mod.batch_row(loan, found, request) for loan in rows]
        seconds = time.perf_counter() - started
        out["+".join(analyses)] = {
            "loans": len(results),
            "seconds": round(seconds, 2),
            "loans_per_second": round(len(results) / seconds, 1),
            "risky": sum(1 for r in results if r.verdict == "risky"),
        }
    return out


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
    engine: DuckDBEngine, root: Path, sample: Sequence[Mapping[str, Any]]
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
        equal += sorted(map(key, on_graph.nodes)) == sorted(map(key, on_lake.nodes))
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


# -- quality on the planted cases ------------------------------------------------------------------------------


def evaluate(
    engine: DuckDBEngine, root: Path, region: Path, loans: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    labels = read_labels(region / LABELS_FILE)
    stores = service.Stores(engine, root, KEY)
    verdicts: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for head in sorted({str(x["head"]) for x in loans}):
        mine = [x for x in loans if x["head"] == head]
        for year in sorted({x["disbursed_at"].astimezone(SHANGHAI).year for x in mine}):
            request = BatchRequest(from_date=dt.date(year, 1, 1), to_date=dt.date(year, 12, 31))
            start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(dt.UTC)
            end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(dt.UTC)
            rows = queries.batch_loans(
                engine,
                {"root_code": head, "loans_from_month": f"{year}-01", "loans_to_month": f"{year}-12",
                 "disbursed_from": start, "disbursed_to": end},
            )  # fmt: skip
            found = service.trace_batch(stores, head, rows, request, start, end)
            for loan in rows:
                r = batch_mod.batch_row(loan, found, request)
                verdicts[r.loan_id] = {
                    "return_flow": r.return_verdict,
                    "misuse": r.misuse_verdict,
                    "top": r.top_misuse,
                }
    out: dict[str, Any] = {"loans": len(verdicts), "seconds": round(time.perf_counter() - started, 1)}
    for analysis in ("return_flow", "misuse"):
        positives = {
            x["loan_id"]: x for x in labels if x["analysis"] == analysis and x["detectable"] == "true"
        }
        predicted = {k for k, v in verdicts.items() if v[analysis] == "risky"}
        hits = predicted & set(positives)
        planted_negatives = {
            x["loan_id"] for x in labels if x["analysis"] == analysis and x["detectable"] == "false"
        }
        out[analysis] = {
            "planted_detectable": len(positives),
            "planted_not_detectable_by_design": len(planted_negatives),
            "flagged_risky": len(predicted),
            "true_positives": len(hits),
            "precision": round(len(hits) / len(predicted), 3) if predicted else None,
            "recall": round(len(hits) / len(positives), 3) if positives else None,
            "missed": sorted(positives[k]["case"] for k in set(positives) - predicted),
            "flagged_planted_negatives": sorted(k for k in predicted & planted_negatives),
            "flagged_unlabelled_loans": len(predicted - set(positives) - planted_negatives),
        }
        if analysis == "misuse":
            out[analysis]["wrong_category"] = sorted(
                positives[k]["case"] for k in hits if verdicts[k]["top"] != positives[k]["expected_kind"]
            )
    return out


# -- main ------------------------------------------------------------------------------------------------------


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


def _peak_rss() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--region", type=Path, help="a generated region to reuse (else one is generated)")
    parser.add_argument("--lake", type=Path, help="a lake written from it to reuse (else one is written)")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "hot"])
    parser.add_argument("--loans", type=int, default=100, help="loans for the one-loan latency")
    parser.add_argument("--batch", type=int, default=1000, help="loans in the batch")
    parser.add_argument("--networkx-loans", type=int, default=30)
    parser.add_argument("--evaluate", action="store_true", help="precision/recall on the planted cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        region = args.region or Path(tmp) / "region"
        root = args.lake or Path(tmp) / "lake"
        result: dict[str, Any] = {"benchmark": "tracing", "scale": args.scale, "engine": args.engine}
        # Generating and writing the lake run in a child process: this process's peak RSS is tracing's own.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            result |= pool.apply(prepare, (region, root, args.scale, args.seed, args.region is None))
        result["region"] = {name: Lake(root).row_count(name) for name in ("accounts", "transfers", "loans")}
        engine = HotEngine(root) if args.engine == "hot" else DuckDBEngine(root)
        loans = _loans(root)
        sample = random.Random(args.seed).sample(loans, min(args.loans, len(loans)))
        if args.engine == "hot":
            started = time.perf_counter()
            for dataset in sorted(layout.dataset_names(root)):
                engine._connection(frozenset({dataset}))
            result["hot_tables_load_seconds"] = round(time.perf_counter() - started, 1)
        result["one_loan_return_flow"], _traces = single_loans(engine, root, sample, "return_flow")
        result["one_loan_misuse"], _ = single_loans(
            engine, root, sample[: max(1, len(sample) // 2)], "misuse"
        )
        result["batch"] = batch(engine, root, loans, args.batch)
        result["peak_rss_mib"] = _peak_rss()
        if args.evaluate:
            result["planted_cases"] = evaluate(engine, root, region, loans)
        nx_sample = _one_month(loans, sample, args.networkx_loans, args.seed)
        result["networkx"] = networkx_comparison(engine, root, nx_sample)
        result["networkx"]["peak_rss_mib_with_graph"] = _peak_rss()
        result["machine"] = machine_info()
        engine.close()
    RESULTS.mkdir(exist_ok=True)
    suffix = "-hot" if args.engine == "hot" else ""
    target = RESULTS / f"tracing-{args.scale}{suffix}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
