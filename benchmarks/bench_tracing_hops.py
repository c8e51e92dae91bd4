"""The resident hops of one-loan checks, replayed: CPU time per hop and a hash of every answer.

A warm serving child as `bench_tracing_api.py`'s (`serving`) answers one-loan checks (return flow in the today
and balance pools, misuse in the today pool) for --loans loans of the largest bank while every
`ResidentHops.fetch` call is recorded; the recorded calls are then replayed --rounds times and timed with the
thread's CPU time (what one-loan requests spend in the hops, without the request around them). The hash of the
answers lets two runs (this code, and another tree's `src` on PYTHONPATH) be compared: equal hashes, equal hops.

--unit trace (2026-12-07 night, h-bp) records and replays whole one-loan traces instead (`rules.trace_many` as
the one-loan service calls it: every hop's fetch, the classification, the rows and the next frontier), hashing
every trace's node and edge rows: the unit a change to the hops' answer objects or to `_arrivals` is held to,
where `fetch`'s own answer may change form. Both units work on a tree from before the option existed.

Usage: PYTHONPATH=src python benchmarks/bench_tracing_hops.py --lake /work/data/large/lake [--loans 40]
       [--rounds 30] [--unit hop|trace]
The hop unit times what the tracer calls (`ResidentHops.fetch_timed` where there is one, else `fetch`) and
hashes `fetch`'s answer, comparable across trees.
Prints one JSON line: calls, frontier sizes (p50, p90, max; hop unit), ms per call (median and best of the
rounds), hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tracing_api import _sample, serving


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--loans", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--unit", choices=["hop", "trace"], default="hop")
    args = parser.parse_args()
    if args.unit == "trace":
        traces(args)
        return

    from jinyu.risk.tracing.service import resident

    plan = _sample(args.lake, args.loans, args.seed, 0)
    plan["batch"] = None
    calls: list[tuple[Any, list[Any], Any]] = []
    # What the tracer calls: `fetch_timed` since h-bp (timed edges), `fetch` before. Timed as called; hashed as
    # `fetch`'s answer (the same form on every tree, so hashes compare across them).
    name = "fetch_timed" if hasattr(resident.ResidentHops, "fetch_timed") else "fetch"
    fetch = getattr(resident.ResidentHops, name)

    def recorded(self: Any, frontier: Any, settings: Any) -> Any:
        calls.append((self, list(frontier), settings))
        return fetch(self, frontier, settings)

    with serving(args.lake, plan) as (client, headers, _):
        setattr(resident.ResidentHops, name, recorded)
        try:
            for loan in plan["loans"]:
                for path in ("return-flow?pool=today", "return-flow?pool=balance", "misuse?pool=today"):
                    resp = client.get(f"/api/v1/risk/loans/{loan}/{path}", headers=headers)
                    assert resp.status_code == 200, resp.text
        finally:
            setattr(resident.ResidentHops, name, fetch)
        digest = hashlib.sha256()
        for hops, frontier, settings in calls:
            digest.update(repr(sorted(hops.fetch(frontier, settings).items())).encode())
        per_round = []
        for _ in range(args.rounds):
            started = time.thread_time()
            for hops, frontier, settings in calls:
                fetch(hops, frontier, settings)
            per_round.append((time.thread_time() - started) / len(calls) * 1e3)
    sizes = sorted(len(frontier) for _, frontier, _ in calls)
    print(json.dumps({
        "calls": len(calls), "frontier_p50": sizes[len(sizes) // 2], "frontier_p90": sizes[int(0.9 * len(sizes))],
        "frontier_max": sizes[-1], "ms_per_call_median": round(statistics.median(per_round), 4),
        "ms_per_call_best": round(min(per_round), 4), "hash": digest.hexdigest()[:16],
    }))  # fmt: skip


def traces(args: argparse.Namespace) -> None:
    """--unit trace: whole one-loan traces (`rules.trace_many` as `service.single` calls it), replayed."""
    from jinyu.risk.tracing import rules

    plan = _sample(args.lake, args.loans, args.seed, 0)
    plan["batch"] = None
    calls: list[tuple[Any, list[Any], Any]] = []
    trace_many = rules.trace_many

    def recorded(source: Any, starts: Any, settings: Any) -> Any:
        calls.append((source, list(starts), settings))
        return trace_many(source, starts, settings)

    with serving(args.lake, plan) as (client, headers, _):
        rules.trace_many = recorded  # type: ignore[assignment]  # `service.single` calls it by the module
        try:
            for loan in plan["loans"]:
                for path in ("return-flow?pool=today", "return-flow?pool=balance", "misuse?pool=today"):
                    resp = client.get(f"/api/v1/risk/loans/{loan}/{path}", headers=headers)
                    assert resp.status_code == 200, resp.text
        finally:
            rules.trace_many = trace_many  # type: ignore[assignment]
        digest = hashlib.sha256()
        rows = 0
        for source, starts, settings in calls:
            for key, found in sorted(trace_many(source, starts, settings).items()):
                digest.update(repr((key, found.nodes, found.edges)).encode())
                rows += len(found.nodes) + len(found.edges)
        per_round = []
        for _ in range(args.rounds):
            started = time.thread_time()
            for source, starts, settings in calls:
                trace_many(source, starts, settings)
            per_round.append((time.thread_time() - started) / len(calls) * 1e3)
    print(json.dumps({
        "unit": "trace", "calls": len(calls), "rows": rows,
        "ms_per_call_median": round(statistics.median(per_round), 4),
        "ms_per_call_best": round(min(per_round), 4), "hash": digest.hexdigest()[:16],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
