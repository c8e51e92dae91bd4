"""`network.rank_arrays` of this checkout against another checkout's, in one process, alternating (h-bl).

Across processes the difference between feeding igraph two int lists and two memoryviews was lost in a loaded
machine's noise; here both run on the same 2M links in the same process, rounds alternating which goes first,
and their answers must be equal. The links are the stored month of `chain_ranking_parts.py --part read`
(written there once under --lake-dir).

    uv run python benchmarks/chain_rank_arrays_ab.py --baseline-src /work/wt/h-bl-base/src \
        --lake-dir /tmp/parts-lake --repeat 10
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import calibration, machine_info, result_path

from jinyu.chain import id_links, network


def _baseline(src: Path) -> ModuleType:
    """The other checkout's `jinyu.chain.network`, loaded under another name beside this one's."""
    spec = importlib.util.spec_from_file_location("baseline_network", src / "jinyu" / "chain" / "network.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-src", type=Path, required=True)
    ap.add_argument("--lake-dir", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--out", type=result_path)
    args = ap.parse_args()
    table = pq.read_table(next((args.lake_dir / "chain_network_links").rglob("*.parquet")))
    links = id_links.from_table(table.filter(pc.is_valid(table.column("payer"))))
    assert links is not None
    n, weight = len(links.names), links.fen.astype(np.float64) / 100.0
    sides: dict[str, Any] = {"baseline": _baseline(args.baseline_src), "this": network}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
    result: dict[str, Any] = {"machine": machine_info(), "calibration_before": calibration()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    for r in range(args.repeat):
        answers = {}
        for side in sorted(sides, reverse=bool(r % 2)):
            started, cpu = time.perf_counter(), time.process_time()
            answers[side] = sides[side].rank_arrays(n, links.payer, links.payee, weight, False)
            times[side].append((round(time.perf_counter() - started, 3), round(time.process_time() - cpu, 3)))
        assert answers["baseline"] == answers["this"], "the ranks differ"
    result["rounds"] = times
    result["medians"] = {
        k: {"wall_s": statistics.median(w for w, _ in v), "cpu_s": statistics.median(c for _, c in v)}
        for k, v in times.items()
    }
    result.update(links=len(links.payer), nodes=n, equal=True, baseline_src=str(args.baseline_src))
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["calibration_after"] = calibration()
    print(json.dumps(result["medians"]))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
