"""Held-out evaluation of the portrait scorecard on the demo region (the small synthetic region, demo seed).

Generates the region, writes the datasets the scorecard reads into a lake (`tracing_support.write_lake`, personal
identifiers tokenised as ingestion does), then for each (train month, test
month ≥ train + 6) fits the model on the train month's members and evaluates it on the held-out test month:
AUC, KS and calibration, exactly as `GET /api/v1/chains/{code}/scorecard` and `jinyu chain scorecard` answer
(`scoring.train`, `scoring.dataset`, `scorecard.score_batch`, `auc`, `ks`, `calibration`). Prints and writes
JSON with the machine facts.

    uv run python benchmarks/eval_chain_scorecard.py --out benchmarks/results/chain-scorecard-eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine_info
from tracing_support import write_lake

from jinyu.analytics import DuckDBEngine
from jinyu.chain import rules, scorecard, scoring
from jinyu.demo import DEMO_SEED
from jinyu.synth import generate

DATASETS = (
    "enterprises", "chain_members", "accounts", "transfers", "headcount_monthly", "tax_monthly", "judicial",
)  # fmt: skip


def evaluate(engine: DuckDBEngine, code: str, train_month: str, test_month: str) -> dict[str, object]:
    trained = scoring.train(engine, code, train_month)
    if trained is None:
        return {"train_month": train_month, "test_month": test_month, "skipped": "one class in train month"}
    model, train_y = trained
    _, test_x, test_y = scoring.dataset(engine, code, test_month)
    probabilities = [s[0] for s in scorecard.score_batch(model, test_x)]
    return {
        "train_month": train_month,
        "test_month": test_month,
        "train_size": len(train_y),
        "train_bad": sum(train_y),
        "test_size": len(test_y),
        "test_bad": sum(test_y),
        "auc": scorecard.auc(probabilities, test_y),
        "ks": scorecard.ks(probabilities, test_y),
        "calibration": [
            {k: str(v) for k, v in group.items()} for group in scorecard.calibration(probabilities, test_y)
        ],
        "bins": {f: len(bins) for f, bins in model.bins.items()},  # a missing-value bin included
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", default="new_display")
    ap.add_argument("--train", action="append", default=None, help="train month(s), YYYY-MM")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/chain-scorecard-eval.json"))
    args = ap.parse_args()
    # The region's data ends in 2024-12: a test month's label needs six months after it (≤ 2024-06).
    trains = args.train or ["2023-06", "2023-09", "2023-12"]
    with tempfile.TemporaryDirectory() as tmp:
        region, root = Path(tmp) / "region", Path(tmp) / "lake"
        generate(region, "small", DEMO_SEED, progress=False)
        write_lake(region, root, DATASETS)
        engine = DuckDBEngine(root)
        try:
            runs = [evaluate(engine, args.chain, t, rules.add_months(t, 6)) for t in trains]
        finally:
            engine.close()
    for r in runs:
        print(json.dumps({k: v for k, v in r.items() if k != "calibration"}, ensure_ascii=False, default=str))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"machine": machine_info(), "chain": args.chain, "runs": runs}, indent=2, default=str),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
