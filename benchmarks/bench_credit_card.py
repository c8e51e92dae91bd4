"""Credit cards: one card under 100 ms p95, and batch snapshots of every enterprise (goal: 100k in 60 s).

Generates a synthetic region (default medium: 5,000 enterprises) in a temporary directory, loads the datasets
the card reads through the real ingestion path (registering the enterprises) into a temporary data dir with
an SQLite store, then measures:
- `card`: the whole service call for a random sample of enterprises (as a regulator, who sees every section),
  on the serving engine the API uses (the card's datasets as in-memory tables sorted by enterprise):
  facts query, rules, snapshot lookup (or insert), view record and audit entry, commit — p50 and p95;
  baselines in the same run: the facts query alone and the rules alone (medians);
- `snapshot_all`: one batch over every enterprise (first run: every card new; second run: none changed),
  against the baseline of the bulk facts query alone.
The serving engine answers a card's facts from its resident bulk result (built once per data version):
`resident_build_s` is what the first card after a load pays for it.
`--baseline FILE` embeds another run's results (e.g. main's, run just before on the same region) and the
ratios against it. Writes benchmarks/results/credit_card.json with machine info.

Usage: uv run python benchmarks/bench_credit_card.py [--scale medium] [--cards 300] [--region DIR]
       [--baseline FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import calibration, machine_info

from jinyu.analytics import Lake
from jinyu.analytics.serving import ServingEngine
from jinyu.config import load_settings
from jinyu.consent.rules import Purpose
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal, Role
from jinyu.core.runtime import unit_of_work
from jinyu.credit import queries, service
from jinyu.credit.rules import build_card
from jinyu.ingest import service as ingest
from jinyu.migrate import upgrade
from jinyu.synth import generate

RESULTS = Path(__file__).resolve().parent / "results"
CARD_DATASETS = (
    "enterprises", "shareholders", "tax_monthly", "headcount_monthly", "patents", "judicial",
    "registration_changes", "tax_credit_ratings", "trademarks", "copyrights", "dishonest_debtors",
    "admin_penalties", "source_coverage",
)  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _load(region: Path, data_dir: Path) -> tuple[Any, float]:
    settings = load_settings(data_dir=data_dir)
    upgrade(settings)
    stores = ingest.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=data_dir / "quarantine",
        pseudonym_key=settings.key("pseudonym_key"),
        quarantine_key=settings.key("quarantine_key"),
    )
    started = time.perf_counter()
    for dataset in CARD_DATASETS:
        path = next(p for p in (region / f"{dataset}.parquet", region / f"{dataset}.csv") if p.exists())
        with unit_of_work(settings) as session:
            ingest.ingest(session, SYSTEM, dataset, path, stores)
    return settings, time.perf_counter() - started


def _regulator() -> Principal:
    return Principal(
        subject_id="bench", username="bench", org_id="bench-regulator", org_kind=OrgKind.REGULATOR,
        tenant_id="bench-regulator", org_path="/bench/", roles=frozenset({Role.REGULATOR_ANALYST}),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--cards", type=int, default=300)
    parser.add_argument("--region", type=Path, help="an already generated region of that scale")
    parser.add_argument("--baseline", type=Path, help="another run's JSON to compare with (same machine)")
    parser.add_argument("--out", type=Path, default=RESULTS / "credit_card.json")
    parser.add_argument("--no-batch", action="store_true", help="cards only (no snapshot_all runs)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-credit-"))
    region = args.region or tmp / "region"
    if args.region is None:
        generate(region, args.scale, 7, progress=False)
    settings, load_s = _load(region, tmp / "data")
    engine = ServingEngine(settings.lake_dir)  # what the API serves cards from (hot tables)
    engine.load()
    operator = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
    usccs = [u for u, _ in queries.all_card_facts(engine)]
    sample = random.Random(7).sample(usccs, min(args.cards, len(usccs)))
    who = _regulator()

    facts_ms, rules_ms, card_ms = [], [], []
    t0 = time.perf_counter()
    queries.card_facts(engine, sample[0])  # the first card after a load builds the resident facts
    resident_build_s = time.perf_counter() - t0
    for uscc in sample[:20]:  # warm the engine's views and the file lists
        queries.card_facts(engine, uscc)
    for uscc in sample:
        t0 = time.perf_counter()
        facts = queries.card_facts(engine, uscc)
        t1 = time.perf_counter()
        build_card(uscc, "x", facts)
        t2 = time.perf_counter()
        with unit_of_work(settings) as session:
            service.card(session, who, engine, uscc, Purpose.CREDIT_ASSESSMENT)
        t3 = time.perf_counter()
        facts_ms.append((t1 - t0) * 1000)
        rules_ms.append((t2 - t1) * 1000)
        card_ms.append((t3 - t2) * 1000)

    t0 = time.perf_counter()
    bulk_rows = 0 if args.no_batch else sum(len(f) for _, f in queries.all_card_facts(engine))
    bulk_facts_s = time.perf_counter() - t0
    runs = []
    for _ in range(0 if args.no_batch else 2):
        t0 = time.perf_counter()
        with unit_of_work(settings) as session:
            result = service.snapshot_all(session, operator, engine)
        runs.append({**result.model_dump(), "wall_seconds": round(time.perf_counter() - t0, 3)})
    first = runs[0] if runs else {"wall_seconds": 0.0, "enterprises": 0}
    per_100k = first["wall_seconds"] / max(1, first["enterprises"]) * 100_000
    out = {
        "benchmark": "credit_card",
        "scale": args.scale,
        "enterprises": len(usccs),
        "machine": machine_info(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],  # other work sharing the cores
        "calibration": calibration(),
        "load_seconds": round(load_s, 2),
        "resident_build_s": round(resident_build_s, 3),
        "card_ms": {"p50": _pct(card_ms, 0.5), "p95": _pct(card_ms, 0.95), "n": len(card_ms)},
        "baseline_facts_query_ms": {"p50": _pct(facts_ms, 0.5), "p95": _pct(facts_ms, 0.95)},
        "baseline_rules_ms": {"p50": _pct(rules_ms, 0.5), "p95": _pct(rules_ms, 0.95)},
        "card_over_facts_query_p50": round(statistics.median(card_ms) / statistics.median(facts_ms), 2),
        "snapshot_all": runs,
        "baseline_bulk_facts_query_s": round(bulk_facts_s, 3),
        "bulk_fact_rows": bulk_rows,
        "snapshot_all_over_bulk_query": round(first["wall_seconds"] / max(bulk_facts_s, 1e-9), 2),
        "snapshot_all_projected_s_per_100k": round(per_100k, 1),
        "targets": {"card_p95_ms": 100, "snapshots_100k_s": 60},
    }
    if args.baseline:
        out["baseline"] = _against(json.loads(args.baseline.read_text()), out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "calibration")}, indent=2))


def _against(base: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """The baseline's headline figures and this run's ratio to them (below 1: faster)."""
    b_snap, o_snap = base["snapshot_all"], out["snapshot_all"]  # empty lists under --no-batch
    return {
        "commit": base["machine"].get("commit"),
        "card_ms": base["card_ms"],
        "snapshot_all_wall_seconds": [r["wall_seconds"] for r in b_snap],
        "card_p50_ratio": round(out["card_ms"]["p50"] / base["card_ms"]["p50"], 3),
        "card_p95_ratio": round(out["card_ms"]["p95"] / base["card_ms"]["p95"], 3),
        "snapshot_all_ratio": [
            round(o["wall_seconds"] / b["wall_seconds"], 3) for o, b in zip(o_snap, b_snap, strict=True)
        ],
    }


if __name__ == "__main__":
    main()
