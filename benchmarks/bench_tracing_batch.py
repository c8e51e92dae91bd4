"""A batch's trace in a serving process: every loan at once (`service.vector`) against loan by loan
(`rules.trace_many`, the previous code's path), alternating in the same process on the same resident index and
context, per analysis.

The batch is the one `bench_tracing_api.py` posts: the earliest --batch-loans loans of the bank with the most
loans, the period cut at a year. Each round times `trace_batch` and the batch rows (`batch_row`) both ways;
the node rows (after refunds) and the rows must be identical. Medians, the ratio, the load average and the
machine's calibration go to benchmarks/results/<--out>.

Usage: python benchmarks/bench_tracing_batch.py --lake /work/data/large/lake [--batch-loans 1000] [--rounds 3]
       [--out tracing-batch-large.json] [--return-flow-only]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import calibration, machine_info
from tracing_support import KEY, _loans

from jinyu.analytics import DuckDBEngine
from jinyu.analytics.flowindex import FlowIndexes
from jinyu.core.clock import SHANGHAI
from jinyu.risk.tracing import service
from jinyu.risk.tracing.schemas import BatchRequest
from jinyu.risk.tracing.service import batch as batch_mod
from jinyu.risk.tracing.service import context, resident

RESULTS = Path(__file__).resolve().parent / "results"
ANALYSES = (["return_flow"], ["misuse"], ["return_flow", "misuse"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--batch-loans", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="tracing-batch.json")
    parser.add_argument("--return-flow-only", action="store_true", help="only the return-flow batch")
    args = parser.parse_args()
    root = args.lake.resolve()
    load_start = os.getloadavg()
    rows = _loans(root)
    head = collections.Counter(str(x["head"]) for x in rows).most_common(1)[0][0]
    mine = sorted((x for x in rows if x["head"] == head), key=lambda x: x["disbursed_at"])[: args.batch_loans]
    first = mine[0]["disbursed_at"].astimezone(SHANGHAI).date()
    last = max(
        d for d in (x["disbursed_at"].astimezone(SHANGHAI).date() for x in mine) if (d - first).days < 365
    )
    start = dt.datetime.combine(first, dt.time(), SHANGHAI).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)
    engine = DuckDBEngine(root)
    t = time.perf_counter()
    flows, contexts = FlowIndexes(), context.ResidentContexts()
    flows.get(root)
    flows.wait()
    contexts.get(root)
    contexts.wait()
    stores = service.Stores(engine, root, KEY, flows=flows, contexts=contexts).pinned()
    index, lookup = resident.resident_index(stores), context.lookups(stores)
    assert index is not None and isinstance(lookup, context.ResidentContext), "resident index and context"
    warm = time.perf_counter() - t
    loans = lookup.batch_loans(
        {"root_code": head, "loans_from_month": start.astimezone(SHANGHAI).strftime("%Y-%m"),
         "loans_to_month": (end - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).strftime("%Y-%m"),
         "disbursed_from": start, "disbursed_to": end},
    )  # fmt: skip
    print(f"{len(loans)} loans of {head}, {first} to {last}; warm-up {warm:.1f} s", flush=True)
    out: dict[str, Any] = {"bank": head, "from": str(first), "to": str(last), "loans": len(loans)}
    for analyses in ANALYSES[:1] if args.return_flow_only else ANALYSES:
        request = BatchRequest(from_date=first, to_date=last, analyses=analyses)  # type: ignore[arg-type]
        seconds: dict[str, list[float]] = {"vector": [], "per_loan": []}
        answers: dict[str, Any] = {}
        for _round in range(args.rounds):
            for name in ("vector", "per_loan") if _round % 2 == 0 else ("per_loan", "vector"):
                t = time.perf_counter()
                found = service.trace_batch(
                    stores,
                    head,
                    loans,
                    request,
                    start,
                    end,
                    index=index,
                    lookup=lookup,
                    vectorised=name == "vector",
                )
                batch_rows = [batch_mod.batch_row(loan, found, request) for loan in loans]
                seconds[name].append(time.perf_counter() - t)
                answers[name] = (found, batch_rows)
        median = {k: statistics.median(v) for k, v in seconds.items()}
        key = "+".join(analyses)
        out[key] = {
            "seconds": {k: [round(x, 3) for x in v] for k, v in seconds.items()},
            "median_seconds": {k: round(v, 3) for k, v in median.items()},
            "ratio": round(median["per_loan"] / median["vector"], 2),
            "identical_node_rows_and_batch_rows": answers["vector"] == answers["per_loan"],
            "risky": sum(1 for r in answers["vector"][1] if r.verdict == "risky"),
        }
        print(key, json.dumps(out[key]), flush=True)
    out["warm_up_seconds"] = round(warm, 1)
    out["load_average"] = {"start": load_start, "end": os.getloadavg()}
    out["command"] = "python " + " ".join(sys.argv)
    out["machine"] = machine_info()
    out["calibration"] = calibration()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
