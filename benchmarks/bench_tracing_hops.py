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

--slowest N (2026-12-08, h-bs; trace unit) times every trace on its own in each round (thread CPU) and lists the
N slowest by their median with their shape: hops, the frontier size of each hop, the edges the hops answered (what
`_arrivals` classifies and groups), the transfers those edges sum, hubs met and the rows made. It also reports the
tail: the mean per trace of the slowest 10 % (by this run's medians) per round, median and best of the rounds;
--tail CALLS takes another run's tail (its `tail_calls`) so two trees are compared on the same traces. --only
CALLS replays those traces alone (to profile them: `py-spy record -- python bench_tracing_hops.py ... --only
75,9 --rounds 300`). --out NAME writes the result with the machine's facts and the calibration loop before and
after (`machine.result_path`).

Usage: PYTHONPATH=src python benchmarks/bench_tracing_hops.py --lake /work/data/large/lake [--loans 40]
       [--rounds 30] [--unit hop|trace] [--slowest 10] [--tail CALLS] [--only CALLS] [--out NAME]
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
    parser.add_argument("--slowest", type=int, default=0, help="trace unit: list the N slowest traces")
    parser.add_argument(
        "--tail", help="trace unit: the tail's call numbers (default: this run's slowest 10 %%)"
    )
    parser.add_argument("--only", help="trace unit: replay only these call numbers (comma-separated)")
    parser.add_argument(
        "--out", help="trace unit: also write the result with machine facts (machine.result_path)"
    )
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


PATHS = ("return-flow?pool=today", "return-flow?pool=balance", "misuse?pool=today")


def traces(args: argparse.Namespace) -> None:
    """--unit trace: whole one-loan traces (`rules.trace_many` as `service.single` calls it), replayed."""
    from machine import calibration

    from jinyu.risk.tracing import rules

    before = calibration() if args.out else None
    plan = _sample(args.lake, args.loans, args.seed, 0)
    plan["batch"] = None
    calls: list[tuple[Any, list[Any], Any]] = []
    labels: list[str] = []
    trace_many = rules.trace_many

    def recorded(source: Any, starts: Any, settings: Any) -> Any:
        calls.append((source, list(starts), settings))
        return trace_many(source, starts, settings)

    with serving(args.lake, plan) as (client, headers, _):
        rules.trace_many = recorded  # type: ignore[assignment]  # `service.single` calls it by the module
        try:
            for loan in plan["loans"]:
                for path in PATHS:
                    resp = client.get(f"/api/v1/risk/loans/{loan}/{path}", headers=headers)
                    assert resp.status_code == 200, resp.text
                    labels.extend([f"{loan} {path}"] * (len(calls) - len(labels)))
        finally:
            rules.trace_many = trace_many  # type: ignore[assignment]
        digest = hashlib.sha256()
        rows = 0
        shapes = []
        for source, starts, settings in calls:
            with _ShapeOf(source) as shape:
                found_all = trace_many(source, starts, settings)
            for key, found in sorted(found_all.items()):
                digest.update(repr((key, found.nodes, found.edges)).encode())
                rows += len(found.nodes) + len(found.edges)
                shape["rows"] = shape.get("rows", 0) + len(found.nodes) + len(found.edges)
            shapes.append(shape)
        chosen = _chosen(args.only, len(calls))
        per_round, per_call = _replay(trace_many, [calls[i] for i in chosen], args.rounds)
    out: dict[str, Any] = {
        "unit": "trace", "calls": len(calls), "rows": rows,
        "ms_per_call_median": round(statistics.median(per_round), 4),
        "ms_per_call_best": round(min(per_round), 4), "hash": digest.hexdigest()[:16],
    }  # fmt: skip
    if args.slowest or args.tail:
        out |= _slowest(args, chosen, per_call, shapes, labels)
    print(json.dumps(out))
    if args.out:
        from machine import machine_info, result_path

        record = {"args": {k: str(v) for k, v in vars(args).items()}, "machine": machine_info()}
        record |= {"calibration_before": before, "calibration_after": calibration(), "result": out}
        result_path(args.out).write_text(json.dumps(record, indent=1) + "\n")


def _chosen(only: str | None, n: int) -> list[int]:
    """The recorded calls to replay: all, or the comma-separated call numbers of --only."""
    if not only:
        return list(range(n))
    return [int(x) for x in only.split(",") if x.strip()]


def _replay(
    trace_many: Any, calls: list[tuple[Any, list[Any], Any]], rounds: int
) -> tuple[list[float], list[list[float]]]:
    """Thread CPU ms per call: the mean of each round, and each call's time in every round."""
    per_round: list[float] = []
    per_call: list[list[float]] = [[] for _ in calls]
    clock = time.thread_time_ns
    for _ in range(rounds):
        total = 0
        for times, (source, starts, settings) in zip(per_call, calls, strict=True):
            started = clock()
            trace_many(source, starts, settings)
            spent = clock() - started
            total += spent
            times.append(spent / 1e6)
        per_round.append(total / len(calls) / 1e6)
    return per_round, per_call


class _ShapeOf:
    """A trace's shape, from the hop calls its source answers while the context is open: per hop the frontier
    size, the edges the hop answered (what `_arrivals` groups and classifies), the transfers they sum and the
    hubs. Wraps whatever `trace_many` calls (`fetch_timed` on a timed source, else `fetch`), outermost call
    only."""

    def __init__(self, source: Any) -> None:
        self.cls = type(source)
        self.name = "fetch_timed" if hasattr(self.cls, "fetch_timed") else "fetch"
        self.shape: dict[str, Any] = {"frontiers": [], "edges": 0, "transfers": 0, "hubs": 0}

    def __enter__(self) -> dict[str, Any]:
        original, shape = getattr(self.cls, self.name), self.shape

        def counted(hops: Any, frontier: Any, settings: Any) -> Any:
            answer = original(hops, frontier, settings)
            shape["frontiers"].append(len(frontier))
            for edges in answer.values():
                if edges is None or getattr(edges, "hub", False):
                    shape["hubs"] += 1
                    continue
                edges = getattr(edges, "edges", edges)
                shape["edges"] += len(edges)
                shape["transfers"] += sum(e[4] if isinstance(e, tuple) else e.txn_count for e in edges)
            return answer

        self.original = original
        setattr(self.cls, self.name, counted)
        return shape

    def __exit__(self, *exc: object) -> None:
        setattr(self.cls, self.name, self.original)


def _slowest(
    args: argparse.Namespace,
    chosen: list[int],
    per_call: list[list[float]],
    shapes: list[dict[str, Any]],
    labels: list[str],
) -> dict[str, Any]:
    """Per trace CPU (median and best of the rounds) and the slowest traces with their shape; the tail (the
    slowest 10 % by this run's medians, or the call numbers of --tail, e.g. another tree's tail) per round."""
    medians = {c: statistics.median(t) for c, t in zip(chosen, per_call, strict=True)}
    ranked = sorted(chosen, key=lambda c: -medians[c])
    default = ranked[: max(1, -(-len(chosen) // 10))]
    tail = [int(x) for x in args.tail.split(",") if x.strip()] if args.tail else default
    where = {c: i for i, c in enumerate(chosen)}
    rounds = len(per_call[0]) if per_call else 0
    tail_rounds = [statistics.fmean(per_call[where[c]][r] for c in tail) for r in range(rounds)]
    listed = [
        {
            "call": c, "trace": labels[c] if c < len(labels) else "",
            "ms_median": round(medians[c], 4), "ms_best": round(min(per_call[where[c]]), 4),
            "hops": len(shapes[c]["frontiers"]), **shapes[c],
        }
        for c in ranked[: args.slowest]
    ]  # fmt: skip
    return {
        "tail_calls": ",".join(str(c) for c in tail),
        "tail_ms_median": round(statistics.median(tail_rounds), 4) if tail_rounds else None,
        "tail_ms_best": round(min(tail_rounds), 4) if tail_rounds else None,
        "per_call_ms_median": {str(c): round(medians[c], 4) for c in chosen},
        "slowest": listed,
    }


if __name__ == "__main__":
    main()
