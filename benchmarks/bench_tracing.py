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

--engine resident (the default) is the serving process: hops from the resident transfer index
(`jinyu.analytics.flowindex`, built here first and timed) and the per-loan statements on the serving engine
(`jinyu.analytics.serving`: the smaller datasets as in-memory DuckDB tables). In the same run it traces
--baseline-loans loans and the batch's return flow over the lake too (the lake path: every statement over
Parquet views), checks that both give identical node and edge rows, and reports the ratios.
--engine duckdb measures the lake path alone; --engine hot the serving engine with hops over the lake.

--region-dir DIR keeps the generated region and its lake in DIR/region and DIR/lake and reuses them when
they are there (the large region takes about five minutes to generate and write).

Usage: uv run python benchmarks/bench_tracing.py --scale medium [--evaluate] [--engine resident|duckdb|hot]
Writes benchmarks/results/tracing-<scale>[-duckdb|-hot].json.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info
from tracing_support import KEY, _loans, _ms, _one_month, _pct, networkx_comparison, prepare

from jinyu.analytics import DuckDBEngine, Engine, Lake
from jinyu.analytics.flowindex import FlowIndexes
from jinyu.analytics.serving import ServingEngine
from jinyu.core.clock import SHANGHAI
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service import batch as batch_mod
from jinyu.risk.tracing.service import context, resident, single
from jinyu.synth.risk_cases import LABELS_FILE, read_labels

RESULTS = Path(__file__).resolve().parent / "results"


# -- timing ------------------------------------------------------------------------------------------------------


class Timings:
    """Wall time per registered query, recorded around the engine's `run`."""

    def __init__(self) -> None:
        self.by_query: dict[str, list[float]] = collections.defaultdict(list)

    @contextmanager
    def around(self, engine: Engine) -> Iterator[None]:
        """Every registered statement of `engine`, and every resident hop lookup (as `resident_hop`)."""
        original, fetch = engine.run, resident.ResidentHops.fetch

        def run(name: str, /, **params: object) -> pa.Table:
            started = time.perf_counter()
            try:
                return original(name, **params)
            finally:
                self.by_query[name].append(time.perf_counter() - started)

        def timed_fetch(
            hops: resident.ResidentHops, frontier: Sequence[rules.Frontier], settings: rules.TraceSettings
        ) -> dict[tuple[str, str], rules.Expansion]:
            started = time.perf_counter()
            try:
                return fetch(hops, frontier, settings)
            finally:
                self.by_query["resident_hop"].append(time.perf_counter() - started)

        engine.run = run  # type: ignore[method-assign]
        resident.ResidentHops.fetch = timed_fetch  # type: ignore[method-assign]
        try:
            yield
        finally:
            del engine.run
            resident.ResidentHops.fetch = fetch  # type: ignore[method-assign]

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: {"calls": len(v), "p50_ms": _ms(statistics.median(v)), "p95_ms": _ms(_pct(v, 95))}
            for name, v in sorted(self.by_query.items())
        }


def single_loans(
    stores: service.Stores, sample: Sequence[Mapping[str, Any]], mode: str
) -> tuple[dict[str, Any], dict[str, rules.Trace]]:
    """What one request does: find the loan, trace it, build its evidence (each loan timed end to end)."""
    engine, params = stores.engine, TraceParams()
    timings, latencies, traces, methods = Timings(), [], {}, collections.Counter()
    warm = context.find_loan(stores, str(sample[0]["loan_id"]), str(sample[0]["bank_code"]))
    service.trace_loan(stores, warm, params, mode, str(sample[0]["bank_code"]))  # views, special accounts
    with timings.around(engine):
        for item in sample:
            started = time.perf_counter()
            loan = context.find_loan(stores, str(item["loan_id"]), str(item["bank_code"]))
            traced = service.trace_loan(stores, loan, params, mode, str(item["bank_code"]))
            single.evidence(
                stores, traced, ["returned"] if mode == "return_flow" else list(rules.MISUSE_KINDS), 5
            )
            latencies.append(time.perf_counter() - started)
            traces[str(item["loan_id"])] = traced.trace
            methods[traced.basis.method] += 1
    return {
        "loans": len(sample),
        "p50_ms": _ms(statistics.median(latencies)),
        "p95_ms": _ms(_pct(latencies, 95)),
        "max_ms": _ms(max(latencies)),
        "method": dict(methods),
        "context": type(context.lookups(stores)).__name__,
        "statements": timings.summary(),
    }, traces


def batch(
    stores: service.Stores,
    loans: Sequence[Mapping[str, Any]],
    size: int,
    analyses_list: Sequence[list[str]] = (["return_flow"], ["misuse"], ["return_flow", "misuse"]),
) -> dict[str, Any]:
    """The first `size` loans (by disbursement) of the bank with the most loans."""
    head = collections.Counter(str(x["head"]) for x in loans).most_common(1)[0][0]
    mine = sorted((x for x in loans if x["head"] == head), key=lambda x: x["disbursed_at"])
    limit = mine[0]["disbursed_at"] + dt.timedelta(days=365)  # a batch covers at most a year
    mine = [x for x in mine if x["disbursed_at"] < limit][:size]
    first = mine[0]["disbursed_at"].astimezone(SHANGHAI).date()
    last = mine[-1]["disbursed_at"].astimezone(SHANGHAI).date()
    out: dict[str, Any] = {"bank": head, "from": first.isoformat(), "to": last.isoformat()}
    index = resident.resident_index(stores)
    for analyses in analyses_list:
        request = BatchRequest(from_date=first, to_date=last, analyses=analyses)  # type: ignore[arg-type]
        start = dt.datetime.combine(first, dt.time(), SHANGHAI).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)
        started = time.perf_counter()
        lookup = context.lookups(stores)
        rows = lookup.batch_loans(
            {
                "root_code": head,
                "loans_from_month": start.astimezone(SHANGHAI).strftime("%Y-%m"),
                "loans_to_month": (end - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).strftime("%Y-%m"),
                "disbursed_from": start,
                "disbursed_to": end,
            },
        )
        found = service.trace_batch(stores, head, rows, request, start, end, index=index, lookup=lookup)
        results = [batch_mod.batch_row(loan, found, request) for loan in rows]
        seconds = time.perf_counter() - started
        out["+".join(analyses)] = {
            "loans": len(results),
            "seconds": round(seconds, 2),
            "loans_per_second": round(len(results) / seconds, 1),
            "risky": sum(1 for r in results if r.verdict == "risky"),
            "method": "resident" if index is not None else "lake",
            "context": type(lookup).__name__,
            "verdicts": {r.loan_id: r.verdict for r in results},  # popped before writing
            "found": found if analyses == ["return_flow"] else None,  # popped before writing
        }
    return out


def same_traces(a: Mapping[str, rules.Trace], b: Mapping[str, rules.Trace]) -> int:
    """Loans whose node and edge rows are identical (the same rows in the same order) in both."""
    return sum(1 for key in a if key in b and a[key].nodes == b[key].nodes and a[key].edges == b[key].edges)


# -- quality on the planted cases ------------------------------------------------------------------------------


def evaluate(stores: service.Stores, region: Path, loans: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    labels = read_labels(region / LABELS_FILE)
    engine = stores.engine
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


def _peak_rss() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--region", type=Path, help="a generated region to reuse (else one is generated)")
    parser.add_argument("--lake", type=Path, help="a lake written from it to reuse (else one is written)")
    parser.add_argument("--region-dir", type=Path, help="keep (and reuse) DIR/region and DIR/lake")
    parser.add_argument("--engine", default="resident", choices=["resident", "duckdb", "hot"])
    parser.add_argument("--loans", type=int, default=100, help="loans for the one-loan latency")
    parser.add_argument("--baseline-loans", type=int, default=20, help="of those, also traced over the lake")
    parser.add_argument("--batch", type=int, default=1000, help="loans in the batch")
    parser.add_argument("--networkx-loans", type=int, default=30, help="0: no NetworkX comparison")
    parser.add_argument("--evaluate", action="store_true", help="precision/recall on the planted cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.region_dir or Path(tmp)
        region = args.region or keep / "region"
        root = args.lake or keep / "lake"
        generate_region = args.region is None and not (region / "manifest.json").exists()
        result: dict[str, Any] = {"benchmark": "tracing", "scale": args.scale, "engine": args.engine}
        result["load_average_start"] = _load()
        # Generating and writing the lake run in a child process: this process's peak RSS is tracing's own.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            result |= pool.apply(prepare, (region, root, args.scale, args.seed, generate_region))
        result["region"] = {name: Lake(root).row_count(name) for name in ("accounts", "transfers", "loans")}
        loans = _loans(root)
        sample = random.Random(args.seed).sample(loans, min(args.loans, len(loans)))
        engine: DuckDBEngine = DuckDBEngine(root) if args.engine == "duckdb" else ServingEngine(root)
        flows = FlowIndexes() if args.engine == "resident" else None
        index = None
        if isinstance(engine, ServingEngine):
            started = time.perf_counter()
            engine.load()
            result["serving_tables_load_seconds"] = round(time.perf_counter() - started, 1)
        if flows is not None:
            started = time.perf_counter()
            flows.warm(root)
            flows.wait()
            index = flows.get(root)
            assert index is not None
            result["flow_index"] = {
                "build_seconds": round(time.perf_counter() - started, 1),
                "transfers": index.transfers,
                "accounts": int(index.accounts.shape[0]),
                "array_mib": round(index.nbytes / 2**20, 1),
                "peak_rss_mib_after_build": _peak_rss(),
                "rss_mib_after_build": _rss(),
            }
        contexts = context.ResidentContexts() if flows is not None else None
        if contexts is not None:
            started = time.perf_counter()
            contexts.get(root)
            contexts.wait()
            built = contexts.get(root)
            assert built is not None
            result["resident_context"] = {
                "build_seconds": round(time.perf_counter() - started, 1),
                "loans": len(built.t.loans),
                "rss_mib_after_build": _rss(),
            }
        stores = service.Stores(engine, root, KEY, flows=flows, contexts=contexts)
        result["one_loan_return_flow"], traces = single_loans(stores, sample, "return_flow")
        result["one_loan_misuse"], _ = single_loans(stores, sample[: max(1, len(sample) // 2)], "misuse")
        result["batch"] = batch(stores, loans, args.batch)
        result["peak_rss_mib"] = _peak_rss()
        result["rss_mib"] = _rss()
        if contexts is not None:
            result["statement_context_baseline"] = statement_context_baseline(
                service.Stores(engine, root, KEY, flows=flows, contexts=_Statements()),
                sample,
                traces,
                result,
                loans,
                args.batch,
            )
        if args.engine != "duckdb" and args.baseline_loans:
            result["lake_baseline"] = lake_baseline(
                root, sample[: args.baseline_loans], traces, result, loans, args.batch
            )
        if args.evaluate:
            result["planted_cases"] = evaluate(stores, region, loans)
        for key in ("return_flow", "misuse", "return_flow+misuse"):
            result["batch"][key].pop("verdicts", None)
            result["batch"][key].pop("found", None)
        if args.networkx_loans > 0:  # 0 leaves the NetworkX comparison out (it has no months to load then)
            nx_sample = _one_month(loans, sample, args.networkx_loans, args.seed)
            result["networkx"] = networkx_comparison(engine, root, nx_sample, index)
            result["networkx"]["peak_rss_mib_with_graph"] = _peak_rss()
        result["load_average_end"] = _load()
        result["machine"] = machine_info()
        engine.close()
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.engine == "resident" else f"-{args.engine}"
    target = RESULTS / f"tracing-{args.scale}{suffix}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"wrote {target}")


class _Statements(context.ResidentContexts):
    """Never built: the context from the per-loan statements, as before issue 19 (hops still resident)."""

    def get(self, lake_root: Path, listing: object = None) -> context.ResidentContext | None:
        return None


def statement_context_baseline(
    stores: service.Stores,
    sample: Sequence[Mapping[str, Any]],
    traces: Mapping[str, rules.Trace],
    result: Mapping[str, Any],
    loans: Sequence[Mapping[str, Any]],
    size: int,
) -> dict[str, Any]:
    """The previous code's path in the same run: resident hops, the context from the per-loan statements on
    the serving engine. Identical results, and the ratios to the resident context."""
    one, statement_traces = single_loans(stores, sample, "return_flow")
    misuse, _ = single_loans(stores, sample[: max(1, len(sample) // 2)], "misuse")
    batched = batch(stores, loans, size, (["return_flow"], ["return_flow", "misuse"]))
    served, fast = result["batch"], result["one_loan_return_flow"]
    return {
        "one_loan_return_flow": one,
        "one_loan_misuse": misuse,
        "identical_traces": same_traces(statement_traces, traces),
        "of_loans": len(sample),
        "batch": {
            key: {k: v for k, v in batched[key].items() if k not in ("verdicts", "found")}
            for key in ("return_flow", "return_flow+misuse")
        },
        "batch_identical_verdicts": all(
            batched[key]["verdicts"] == served[key]["verdicts"]
            for key in ("return_flow", "return_flow+misuse")
        ),
        "batch_identical_node_rows": batched["return_flow"]["found"] == served["return_flow"]["found"],
        "ratio_one_loan_p50": round(one["p50_ms"] / fast["p50_ms"], 1),
        "ratio_one_loan_p95": round(one["p95_ms"] / fast["p95_ms"], 1),
        "ratio_one_loan_misuse_p95": round(misuse["p95_ms"] / result["one_loan_misuse"]["p95_ms"], 1),
        "ratio_batch_return_flow": round(
            batched["return_flow"]["seconds"] / served["return_flow"]["seconds"], 1
        ),
        "ratio_batch_both": round(
            batched["return_flow+misuse"]["seconds"] / served["return_flow+misuse"]["seconds"], 1
        ),
    }


def lake_baseline(
    root: Path,
    sample: Sequence[Mapping[str, Any]],
    traces: Mapping[str, rules.Trace],
    result: Mapping[str, Any],
    loans: Sequence[Mapping[str, Any]],
    size: int,
) -> dict[str, Any]:
    """The lake path (Parquet views, one statement per hop) in the same run: fewer loans, the batch's
    return flow, identical results and the ratios."""
    engine = DuckDBEngine(root)
    stores = service.Stores(engine, root, KEY)
    try:
        one, lake_traces = single_loans(stores, sample, "return_flow")
        batch_lake = batch(stores, loans, size, (["return_flow"],))
    finally:
        engine.close()
    served = result["batch"]["return_flow"]
    lake_batch = batch_lake["return_flow"]
    fast = result["one_loan_return_flow"]
    return {
        "one_loan_return_flow": one,
        "identical_traces": same_traces(lake_traces, traces),
        "of_loans": len(sample),
        "batch_return_flow": {k: v for k, v in lake_batch.items() if k not in ("verdicts", "found")},
        "batch_identical_verdicts": lake_batch["verdicts"] == served["verdicts"],
        "batch_identical_node_rows": lake_batch["found"] == served["found"],
        "ratio_one_loan_p50": round(one["p50_ms"] / fast["p50_ms"], 1),
        "ratio_one_loan_p95": round(one["p95_ms"] / fast["p95_ms"], 1),
        "ratio_batch_return_flow": round(lake_batch["seconds"] / served["seconds"], 1),
    }


if __name__ == "__main__":
    main()
