"""One-loan GET return flow through the direct route against FastAPI's routing, in one warm process.

The same serving set-up as `bench_tracing_api.py` (a bank, its risk user, the resident index and context built
first, the start-up objects frozen), then each sampled loan requested twice in a row — once through the edge's
direct route (`risk.tracing.fastroute`), once through the framework's routing and dependency solving (the edge's
template match switched off for that request) — the order alternating loan by loan, for --passes passes. Both
sides run in the same process at the same moment, so the machine's swings (the other helpers' work, another
job) fall on both alike: the figure is the ratio. Reported per side: wall time and process CPU time per request
(median, mean, p95); the answers must be identical (their inquiry id and computed-at time blanked).

Usage: python benchmarks/bench_tracing_direct.py --lake <lake> [--loans 60] [--passes 4] [--out name.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench_tracing_api import _sample, serving
from machine import calibration, machine_info, result_path
from tracing_support import _ms, _pct

DRAWN = re.compile(rb'"(inquiry_id|computed_at)":"[^"]+"')


def _figures(values: list[float]) -> dict[str, float]:
    return {"median_ms": _ms(statistics.median(values)), "mean_ms": _ms(statistics.fmean(values)),
            "p95_ms": _ms(_pct(values, 95))}  # fmt: skip


def run(lake: Path, loans: int, passes: int, seed: int) -> dict[str, Any]:
    from jinyu.core.asgi import Edge

    plan = _sample(lake, loans, seed, 0, 0)
    templated = Edge._templated
    sides: dict[str, dict[str, list[float]]] = {s: {"wall": [], "cpu": []} for s in ("direct", "framework")}
    bodies: dict[str, dict[str, bytes]] = {"direct": {}, "framework": {}}
    with serving(lake, plan) as (client, headers, warm_seconds):
        url = "/api/v1/risk/loans/{}/return-flow?pool=today"
        for loan_id in plan["loans"][:3]:  # warm both paths
            client.get(url.format(loan_id), headers=headers)
        for number in range(passes):
            for n, loan_id in enumerate(plan["loans"]):
                order = ("direct", "framework") if (n + number) % 2 == 0 else ("framework", "direct")
                for side in order:
                    Edge._templated = templated if side == "direct" else (lambda self, m, p, s: None)  # type: ignore[method-assign]
                    try:
                        t0, c0 = time.perf_counter(), time.process_time()
                        resp = client.get(url.format(loan_id), headers=headers)
                        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                    finally:
                        Edge._templated = templated  # type: ignore[method-assign]
                    assert resp.status_code == 200, resp.text
                    sides[side]["wall"].append(wall)
                    sides[side]["cpu"].append(cpu)
                    bodies[side][loan_id] = DRAWN.sub(b"", resp.content)
    result: dict[str, Any] = {"warm_seconds": warm_seconds, "loans": len(plan["loans"]), "passes": passes}
    for side, times in sides.items():
        result[side] = {"requests": len(times["wall"]), "wall": _figures(times["wall"]),
                        "cpu": _figures(times["cpu"])}  # fmt: skip
    for kind in ("wall", "cpu"):
        for q in ("median_ms", "mean_ms", "p95_ms"):
            result[f"ratio_{kind}_{q.removesuffix('_ms')}"] = round(
                result["framework"][kind][q] / result["direct"][kind][q], 3
            )
    result["identical_responses"] = bodies["direct"] == bodies["framework"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--loans", type=int, default=60)
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="tracing-direct.json")
    args = parser.parse_args()
    import os

    result: dict[str, Any] = {"benchmark": "tracing-direct", "lake": str(args.lake),
                              "calibration_start": calibration(),
                              "load_average_start": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    result |= run(args.lake, args.loans, args.passes, args.seed)
    result["calibration_end"] = calibration()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"] = machine_info()
    out = result_path(args.out)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
