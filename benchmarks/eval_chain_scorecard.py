"""Held-out evaluation of the portrait scorecard on a synthetic region (medium by default, demo seed).

Generates the region, writes the datasets the scorecard reads into a lake (`tracing_support.write_lake`, personal
identifiers tokenised as ingestion does), then for each chain and train month T fits the model on T's
members, calibrates it on T + 3 (isotonic and Platt) and evaluates it on the held-out T + 9 = M: AUC, KS, Brier,
calibration fifths and reliability deciles, uncalibrated and calibrated, exactly as `GET
/api/v1/chains/{code}/scorecard?calibration_month=&calibration_method=` and `jinyu chain scorecard
--calibration-month` answer, and as the portraits of M score by default (trained on M − 9, isotonic on M − 6).
Beside them the model the portraits used before (trained on M − 6, uncalibrated), and the same isotonic-
calibrated in-sample. Prints one line per run and the means; writes JSON with the machine facts.

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


def _metrics(probabilities: list[float], labels: list[int]) -> dict[str, object]:
    return {
        "auc": scorecard.auc(probabilities, labels),
        "ks": scorecard.ks(probabilities, labels),
        "brier": scorecard.brier(probabilities, labels),
        "distinct_pds": len(set(probabilities)),
        "calibration": scorecard.calibration(probabilities, labels),
        "reliability": scorecard.calibration(probabilities, labels, groups=10),
    }


def evaluate(engine: DuckDBEngine, code: str, train_month: str) -> dict[str, object]:
    """Train on T, calibrate on T + 3 (Platt and isotonic), test on T + 9 (its features 6 months after the
    calibration month's, so both earlier months' labels are known by then), as `scoring.run` with
    calibration_month. Also the model a portrait batch of T + 9 used before calibration: trained on T + 3
    (= test − 6, uncalibrated), and T + 3 calibrated in-sample on itself (isotonic), to show what that costs."""
    calibration_month, test_month = rules.add_months(train_month, 3), rules.add_months(train_month, 9)
    trained = scoring.train(engine, code, train_month)
    if trained is None:
        return {"train_month": train_month, "test_month": test_month, "skipped": "one class in train month"}
    model, train_y = trained
    _, calibration_x, calibration_y = scoring.dataset(engine, code, calibration_month)
    usccs, test_x, test_y = scoring.dataset(engine, code, test_month)
    raw = [s[0] for s in scorecard.score_batch(model, test_x)]
    out: dict[str, object] = {
        "train_month": train_month,
        "calibration_month": calibration_month,
        "test_month": test_month,
        "train_size": len(train_y),
        "train_bad": sum(train_y),
        "calibration_bad": sum(calibration_y),
        "test_size": len(test_y),
        "test_bad": sum(test_y),
        "uncalibrated": _metrics(raw, test_y),
        "bins": {f: len(bins) for f, bins in model.bins.items()},  # a missing-value bin included
        "coefficients": model.coefficients,
    }
    for method in scorecard.CALIBRATION_METHODS:
        calibrated = scorecard.calibrate(model, calibration_x, calibration_y, method)
        scored = scorecard.score_batch(calibrated, test_x)
        out[method] = _metrics([s[0] for s in scored], test_y)
        out[f"{method}_fit"] = calibrated.platt if method == "platt" else calibrated.isotonic
        if method == scorecard.CALIBRATION_METHODS[0]:
            worst = sorted(zip(usccs, scored, test_y, strict=True), key=lambda t: -t[1][0])[:3]
            out["riskiest"] = [
                {"uscc": u, "probability": s[0], "points": s[1], "factors": s[2], "observed_bad": y}
                for u, s, y in worst
            ]
    # What portraits of the test month scored with before: the model trained on test − 6, no calibration.
    if len(set(calibration_y)) > 1:
        recent = scorecard.fit(calibration_x, calibration_y)
        out["recent_uncalibrated"] = _metrics([s[0] for s in scorecard.score_batch(recent, test_x)], test_y)
        insample = scorecard.calibrate(recent, calibration_x, calibration_y, "isotonic")
        out["recent_isotonic_in_sample"] = _metrics(
            [s[0] for s in scorecard.score_batch(insample, test_x)], test_y
        )
    return out


KINDS = ("uncalibrated", "platt", "isotonic", "recent_uncalibrated", "recent_isotonic_in_sample")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", action="append", default=None)
    ap.add_argument(
        "--scale", default="medium", help="synthetic region scale (small: 40 new-display members)"
    )
    ap.add_argument("--train", action="append", default=None, help="train month(s), YYYY-MM")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/chain-scorecard-eval.json"))
    args = ap.parse_args()
    # The region's data ends in 2024-12: a test month's label needs six months after it (≤ 2024-06), and the
    # test month is the train month + 9; head-count change needs six months of the window before it (≥ 2023-07).
    trains = args.train or ["2023-07", "2023-08", "2023-09"]
    chains = args.chain or ["new_display", "auto", "biomed"]
    with tempfile.TemporaryDirectory() as tmp:
        region, root = Path(tmp) / "region", Path(tmp) / "lake"
        generate(region, args.scale, DEMO_SEED, progress=False)
        write_lake(region, root, DATASETS)
        engine = DuckDBEngine(root)
        try:
            runs = [{"chain": c, **evaluate(engine, c, t)} for c in chains for t in trains]
        finally:
            engine.close()
    for r in runs:
        short = {k: r[k] for k in ("chain", "train_month", "test_month", "test_bad", "test_size") if k in r}
        for kind in KINDS:
            m = r.get(kind)
            if isinstance(m, dict):
                short[kind] = {k: m[k] for k in ("auc", "ks", "brier")}
                short[kind]["top_fifth"] = m["calibration"][-1]  # type: ignore[index]
        print(json.dumps(short, ensure_ascii=False, default=str))
    summary = {}
    for kind in KINDS:
        found = [r[kind] for r in runs if isinstance(r.get(kind), dict)]
        summary[kind] = {
            m: sum(float(f[m]) for f in found) / len(found) for m in ("auc", "ks", "brier") if found
        } | {"runs": len(found)}
        print(kind, json.dumps(summary[kind]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": machine_info(),
                "scale": args.scale,
                "seed": DEMO_SEED,
                "mean": summary,
                "runs": runs,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
