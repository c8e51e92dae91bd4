"""One `snapshot_all` measurement on a loaded data dir, for bench_credit_card.py's `--against-src`.

Run in a subprocess with PYTHONPATH naming the checkout to measure (this one's `src`, or another one's, such
as main's), so two versions of the batch are measured in the same run on copies of the same data. Runs the
batch twice (every card new, then none changed) and prints one JSON line: the walls, the process CPU times
and both results.

Usage: python benchmarks/credit_batch_runner.py DATA_DIR
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from jinyu.analytics import DuckDBEngine
from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM, Perm
from jinyu.core.runtime import unit_of_work
from jinyu.credit import batch


def main() -> None:
    settings = load_settings(data_dir=Path(sys.argv[1]))
    operator = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
    engine = DuckDBEngine(settings.lake_dir)  # what `jinyu credit snapshot-all` runs on
    walls, cpus, results = [], [], []
    try:
        for _ in range(2):
            t0, c0 = time.perf_counter(), time.process_time()
            with unit_of_work(settings) as session:
                result = batch.snapshot_all(session, operator, engine, checkpoint=session.commit)
            walls.append(time.perf_counter() - t0)
            cpus.append(
                time.process_time() - c0
            )  # all threads (DuckDB's too): steadier than walls under load
            results.append(result.model_dump())
    finally:
        engine.close()
    print(json.dumps({"walls": walls, "cpu": cpus, "results": results, "source": batch.__file__}))


if __name__ == "__main__":
    main()
