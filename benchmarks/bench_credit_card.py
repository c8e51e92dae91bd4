"""Credit cards: one card under 100 ms p95, and batch snapshots of every enterprise (goal: 100k in 60 s).

Generates a synthetic region (default medium: 5,000 enterprises) in a temporary directory, loads the datasets
the card reads through the real ingestion path (registering the enterprises) into a temporary data dir with
an SQLite store, then measures:
- `card`: the whole service call for a random sample of enterprises (as a regulator, who sees every section),
  on the serving engine the API uses (the card's datasets as in-memory tables sorted by enterprise):
  facts query, rules, snapshot lookup (or insert), view record and audit entry, commit — p50 and p95;
  baselines in the same run: the facts query alone and the rules alone (medians);
- `snapshot_all`: batch snapshots of every enterprise with the plain DuckDB engine `jinyu credit snapshot-all`
  uses, the new path (set-based section statements, credit/batch.py) against the old per-card path (bulk
  facts, Python rules per card, rewritten here as it was) in the same run, each on its own fresh copy of the
  loaded data dir (first run: every card new; second run: none changed), `--reps` times, alternating; medians.
The serving engine answers a card's facts from its resident bulk result (built once per data version):
`resident_build_s` is what the first card after a load pays for it.
`--against-src DIR` adds, in the same run and alternating with the others, the set-based batch of another
checkout (e.g. `/work/main/src`), and measures this checkout's set-based batch the same way: each in a
subprocess (credit_batch_runner.py) whose PYTHONPATH names that checkout's `src`; `--skip-old` leaves out
the per-card path.
`--baseline FILE` embeds another run's results (e.g. main's, run just before on the same region) and the
ratios against it. Writes benchmarks/results/credit_card.json with machine info.

The temporary directory (region, data dirs) is removed at the end, also when the run fails.

`--loaded DIR` keeps the loaded data dir there and reuses it on the next run (loading the large region takes
minutes); `--postgres URL` puts the operational store on PostgreSQL (so the batch writes with COPY): that
database is loaded, and each `--against-src` run works on a copy of it.

Usage: uv run python benchmarks/bench_credit_card.py [--scale medium] [--cards 300] [--reps 3] [--region DIR]
       [--baseline FILE] [--out FILE] [--no-batch] [--against-src DIR] [--skip-old] [--loaded DIR]
       [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_credit_pg as pg
from machine import calibration, machine_info, result_path

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics.serving import ServingEngine
from jinyu.config import load_settings
from jinyu.consent.rules import Purpose
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal, Role
from jinyu.core.runtime import engine_for, unit_of_work
from jinyu.credit import batch, digest, queries, service
from jinyu.credit import repository as repo
from jinyu.credit.rules import CARD_FORMAT, build_card
from jinyu.ingest import service as ingest
from jinyu.migrate import upgrade
from jinyu.party import service as party
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


def _load(region: Path, data_dir: Path, database_url: str | None = None) -> tuple[Any, float]:
    settings = load_settings(data_dir=data_dir, database_url=database_url)
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
    parser.add_argument("--reps", type=int, default=3, help="batch runs per path (medians)")
    parser.add_argument("--region", type=Path, help="an already generated region of that scale")
    parser.add_argument("--baseline", type=Path, help="another run's JSON to compare with (same machine)")
    parser.add_argument("--out", type=result_path, default=RESULTS / "credit_card.json")
    parser.add_argument("--no-batch", action="store_true", help="cards only (no snapshot_all runs)")
    parser.add_argument("--against-src", type=Path, help="another checkout's src: its set-based batch too")
    parser.add_argument("--skip-old", action="store_true", help="leave out the old per-card batch path")
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL URL (database name included) for the operational store instead of SQLite: that "
        "database is (re)created and loaded, each batch run gets a copy of it (CREATE DATABASE ... TEMPLATE)",
    )
    parser.add_argument(
        "--loaded", type=Path, help="a loaded data dir to reuse (loaded from --region into it when missing)"
    )
    args = parser.parse_args()
    if args.postgres and not args.against_src:
        parser.error("--postgres measures the subprocess runs: give --against-src too")
    tmp = Path(tempfile.mkdtemp(prefix="bench-credit-"))
    try:
        out = _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # GBs at the large scale: never left behind in /tmp
    if args.baseline:
        out["baseline"] = _against(json.loads(args.baseline.read_text()), out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "calibration")}, indent=2))


def _run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    if args.postgres:  # the lake and the store are loaded together: a fresh data dir and database
        args.loaded = None
        pg.recreate(args.postgres)
    if args.loaded is not None and (args.loaded / "lake").is_dir():
        settings, load_s = load_settings(data_dir=args.loaded), 0.0  # reused as loaded: never written to
    else:
        region = args.region or tmp / "region"
        if args.region is None:
            generate(region, args.scale, 7, progress=False)
        settings, load_s = _load(region, args.loaded or tmp / "data", args.postgres)
    pristine = tmp / "pristine"
    shutil.copytree(settings.data_dir, pristine)  # before any snapshot: each batch run starts from here
    if args.postgres:
        engine_for(args.postgres).dispose()  # no connection left open to the template database
        engine_for.cache_clear()
        settings = load_settings(data_dir=settings.data_dir, database_url=pg.copy(args.postgres, "cards"))
    elif args.loaded is not None:
        settings = load_settings(data_dir=pristine.with_name("cards"))  # the card runs write snapshots
        shutil.copytree(pristine, settings.data_dir)
    load_before = [round(x, 2) for x in os.getloadavg()]
    calibration_start = calibration()
    cards = _cards(settings, args.cards)
    batches = (
        {}
        if args.no_batch
        else _batches(pristine, tmp, args.reps, args.against_src, args.skip_old, args.postgres)
    )
    if args.postgres:
        engine_for(settings.resolved_database_url).dispose()
        engine_for.cache_clear()
        pg.drop(pg.copy_url(args.postgres, "cards"))
        pg.drop(args.postgres)
    return {
        "benchmark": "credit_card",
        "scale": args.scale,
        "store": "postgresql" if args.postgres else "sqlite",
        "machine": machine_info(),
        "load_average_1_5_15": {"start": load_before, "end": [round(x, 2) for x in os.getloadavg()]},
        "calibration_start": calibration_start,
        "calibration": calibration(),
        "load_seconds": round(load_s, 2),
        **cards,
        **batches,
        "targets": {"card_p95_ms": 100, "snapshots_100k_s": 60},
    }


def _cards(settings: Any, n_cards: int) -> dict[str, Any]:
    engine = ServingEngine(settings.lake_dir)  # what the API serves cards from (hot tables)
    engine.load()
    usccs = [u for u, _ in queries.all_card_facts(engine)]
    sample = random.Random(7).sample(usccs, min(n_cards, len(usccs)))
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
    return {
        "enterprises": len(usccs),
        "resident_build_s": round(resident_build_s, 3),
        "card_ms": {"p50": _pct(card_ms, 0.5), "p95": _pct(card_ms, 0.95), "n": len(card_ms)},
        "baseline_facts_query_ms": {"p50": _pct(facts_ms, 0.5), "p95": _pct(facts_ms, 0.95)},
        "baseline_rules_ms": {"p50": _pct(rules_ms, 0.5), "p95": _pct(rules_ms, 0.95)},
        "card_over_facts_query_p50": round(statistics.median(card_ms) / statistics.median(facts_ms), 2),
    }


def _batches(
    pristine: Path,
    tmp: Path,
    reps: int,
    against: Path | None = None,
    skip_old: bool = False,
    postgres: str | None = None,
) -> dict[str, Any]:
    """The batch paths, alternating (rotated each rep), each run on a fresh copy of the loaded data dir."""
    paths = [] if skip_old else ["old_per_card"]
    paths += ["new_set_based", "against_set_based"] if against else ["new_set_based"]
    runs: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    for rep in range(reps):
        for path in paths[rep % len(paths) :] + paths[: rep % len(paths)]:
            if against:
                src = against if path == "against_set_based" else Path(__file__).resolve().parents[1] / "src"
                run = _subprocess_run(src, pristine, tmp / f"run-{rep}-{path}", postgres)
            else:
                run = _batch_run(path, pristine, tmp / f"run-{rep}-{path}")
            runs[path].append(run)
    summary: dict[str, Any] = {}
    for path, results in runs.items():
        first = statistics.median(r["first_wall_s"] for r in results)
        summary[path] = {
            "runs": results,
            "median_first_wall_s": round(first, 3),
            "median_second_wall_s": round(statistics.median(r["second_wall_s"] for r in results), 3),
            "projected_s_per_100k": round(first / max(1, results[0]["enterprises"]) * 100_000, 1),
        }
        if "first_cpu_s" in results[0]:  # subprocess runs: CPU seconds of the process, all threads
            for run in ("first", "second"):
                summary[path][f"median_{run}_cpu_s"] = round(
                    statistics.median(r[f"{run}_cpu_s"] for r in results), 3
                )
    out: dict[str, Any] = {"snapshot_all": summary}
    if against:
        out["snapshot_all_against_src"] = str(against)
    new = summary["new_set_based"]
    for base in ("old_per_card", "against_set_based"):
        if base in summary:
            for run in ("first", "second"):
                ratio = new[f"median_{run}_wall_s"] / summary[base][f"median_{run}_wall_s"]
                out[f"snapshot_all_new_over_{base.split('_')[0]}_{run}"] = round(ratio, 3)
                if f"median_{run}_cpu_s" in new:
                    cpu = new[f"median_{run}_cpu_s"] / summary[base][f"median_{run}_cpu_s"]
                    out[f"snapshot_all_new_over_{base.split('_')[0]}_{run}_cpu"] = round(cpu, 3)
    return out


def _subprocess_run(src: Path, pristine: Path, data_dir: Path, postgres: str | None = None) -> dict[str, Any]:
    """credit_batch_runner.py on a fresh copy, with `src` first on the path (that checkout's jinyu); with
    `postgres`, on a fresh copy of that database too."""
    shutil.copytree(pristine, data_dir)
    env = {**os.environ, "PYTHONPATH": str(src)}
    if postgres:
        env["JINYU_DATABASE_URL"] = pg.copy(postgres, "run")
    runner = Path(__file__).resolve().parent / "credit_batch_runner.py"
    try:
        done = subprocess.run(
            [sys.executable, str(runner), str(data_dir)], env=env, check=True, capture_output=True, text=True
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if postgres:
            pg.drop(env["JINYU_DATABASE_URL"])
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    first, second = measured["results"]
    return {
        "enterprises": first["enterprises"],
        "created": first["created"],
        "second_unchanged": second["unchanged"],
        "first_wall_s": round(measured["walls"][0], 3),
        "second_wall_s": round(measured["walls"][1], 3),
        "first_cpu_s": round(measured["cpu"][0], 3),
        "second_cpu_s": round(measured["cpu"][1], 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "source": measured["source"],
    }


def _batch_run(path: str, pristine: Path, data_dir: Path) -> dict[str, Any]:
    shutil.copytree(pristine, data_dir)
    settings = load_settings(data_dir=data_dir)
    operator = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
    engine = DuckDBEngine(settings.lake_dir)  # what `jinyu credit snapshot-all` runs on
    walls, results = [], []
    try:
        for _ in range(2):  # every card new, then none changed
            t0 = time.perf_counter()
            with unit_of_work(settings) as session:
                if path == "new_set_based":
                    result = batch.snapshot_all(
                        session, operator, engine, checkpoint=session.commit
                    ).model_dump()
                else:
                    result = _old_snapshot_all(session, operator, engine)
            walls.append(time.perf_counter() - t0)
            results.append(result)
    finally:
        engine.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "enterprises": results[0]["enterprises"],
        "created": results[0]["created"],
        "second_unchanged": results[1]["unchanged"],
        "first_wall_s": round(walls[0], 3),
        "second_wall_s": round(walls[1], 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _old_snapshot_all(session: Any, principal: Principal, engine: Any) -> dict[str, int]:
    """The batch as it was before the set-based path (the baseline): bulk facts to Python rows, the rules
    per card, canonical JSON per section, rows inserted in batches of 2,000 in one transaction."""
    facts = list(queries.all_card_facts(engine))
    orgs = party.enterprises_by_codes(session, [uscc for uscc, _ in facts])
    latest = repo.latest_keys(session)
    rows: list[dict[str, Any]] = []
    created = unchanged = 0
    for uscc, rows_of in facts:
        org = orgs.get(uscc)
        if org is None:
            continue
        built = build_card(uscc, org[1], rows_of)
        encoded = digest.section_bytes(built["sections"])
        key = digest.content_key(encoded)
        last = latest.get(uscc)
        if last is not None and last[1] == key and last[2] == CARD_FORMAT:
            unchanged += 1
            continue
        version = (last[0] if last else 0) + 1
        rows.append(service.snapshot_row(uscc, org[0], version, built["sections"], encoded, key, principal))
        created += 1
        if len(rows) >= 2000:
            repo.insert_snapshots(session, rows)
            rows = []
    repo.insert_snapshots(session, rows)
    return {"enterprises": len(facts), "created": created, "unchanged": unchanged}


def _against(base: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """The baseline's headline figures and this run's ratio to them (below 1: faster)."""
    return {
        "commit": base["machine"].get("commit"),
        "card_ms": base["card_ms"],
        "card_p50_ratio": round(out["card_ms"]["p50"] / base["card_ms"]["p50"], 3),
        "card_p95_ratio": round(out["card_ms"]["p95"] / base["card_ms"]["p95"], 3),
    }


if __name__ == "__main__":
    main()
