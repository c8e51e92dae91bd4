"""Where a cold chain-page statement's time goes: wall time against DuckDB's own profile, and one scan for two.

Issue 18: one month of supply links cost nearly half of the page's eight months (a fixed part per statement).
For each of `chain_member_links` and `chain_segment_flows`, over one month and over the page's windows, this
times, interleaved run by run on one engine (as a serving process holds it):

- `wall`: `DuckDBEngine.run` (bind, cursor, DuckDB, Arrow result), as the page pays it;
- DuckDB's own profile of the same statement (`PRAGMA enable_profiling = 'json'`): `total` (its latency),
  `cpu`, `plan` (parse, bind — the views' file globs and Parquet schemas — optimise, physical plan) and the
  scan operators (`scan_transfers`, `scan_small`: accounts, enterprises, chain members);
- `wall_object_cache`: `run` with `SET enable_object_cache = true` (Parquet metadata kept between statements);
- `two_statements` / `one_statement`: links and flows of a window as two statements, and as the one
  `chain_links_and_flows` statement the page now runs.

Usage: python benchmarks/bench_chain_statement_split.py --data-dir <a medium demo dir> [--runs 10] [--out F]
(F under benchmarks/results/).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import calibration, machine_info

from jinyu.analytics import DuckDBEngine
from jinyu.analytics.registry import get_query
from jinyu.chain import queries  # noqa: F401  registers the chain queries
from jinyu.chain.reads import FLOWS, LINKS, LINKS_AND_FLOWS

RESULTS = Path(__file__).resolve().parent / "results"


def _profile(engine: DuckDBEngine, name: str, params: dict[str, object], out: Path) -> dict[str, float]:
    query = get_query(name)
    con = engine._connection(query.datasets, query.optional)  # the engine's own views
    cur = con.cursor()
    try:
        cur.execute("PRAGMA enable_profiling = 'json'")
        cur.execute(f"PRAGMA profiling_output = '{out}'")
        cur.sql(query.sql, params=query.bind(params)).to_arrow_table()
        cur.execute("PRAGMA disable_profiling")
    finally:
        cur.close()
    doc = json.loads(out.read_text())
    scans = {"scan_transfers": 0.0, "scan_small": 0.0}

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "TABLE_SCAN":
            files = str(node.get("extra_info", {}).get("Filename(s)", ""))
            scans["scan_transfers" if "/transfers/" in files else "scan_small"] += (
                node.get("timing", 0) * 1000
            )
        for child in node.get("children", []):
            walk(child)

    for op in doc.get("operator", []):
        walk(op)
    q = doc.get("query", {})
    plan = sum(doc.get(k, {}).get("total_time", 0) for k in ("planner", "optimizer", "physical_planner"))
    return {
        "total": q.get("total_time", 0) * 1000,
        "cpu": q.get("cpu_time", 0) * 1000,
        "plan": plan * 1000,
    } | scans


def _timed(f: Any, *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    f(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _two(engine: DuckDBEngine, links: dict[str, object], flows: dict[str, object]) -> None:
    engine.run(LINKS, **links)
    engine.run(FLOWS, **flows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="a medium demo dir (its lake/ is read only)")
    ap.add_argument("--chain", default="new_display")
    ap.add_argument("--end", default="2024-08", help="the window's last month")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", default="chain-statement-split.json")
    args = ap.parse_args()
    engine = DuckDBEngine(args.data_dir / "lake")
    end, code = args.end, args.chain
    month = lambda n: f"{end[:4]}-{int(end[5:]) - n + 1:02d}"  # noqa: E731  (windows within the end's year)
    cases = {
        "links 1 month": (LINKS, month(1)),
        "links 6 months": (LINKS, month(6)),
        "flows 1 month": (FLOWS, month(1)),
        "flows 8 months": (FLOWS, month(8)),
    }

    def params(name: str, first: str) -> dict[str, object]:
        p: dict[str, object] = {"chain_code": code, "from_month": first, "to_month": end}
        return p | ({"segment_overrides": ""} if "segment_overrides" in get_query(name).params else {})

    samples: dict[str, dict[str, list[float]]] = {k: {} for k in cases}
    pair: dict[str, dict[str, list[float]]] = {
        w: {"two_statements": [], "one_statement": []} for w in ("1", "8")
    }
    result: dict[str, Any] = {"machine": machine_info(), "calibration": calibration()}
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "profile.json"
        for name, first in cases.values():  # views made, files in the OS cache: a serving process's state
            engine.run(name, **params(name, first))
        for _ in range(args.runs):
            for case, (name, first) in cases.items():
                p = params(name, first)
                figures = {"wall": _timed(engine.run, name, **p)} | _profile(engine, name, p, prof)
                engine._connection(frozenset()).execute("SET enable_object_cache = true")
                figures["wall_object_cache"] = _timed(engine.run, name, **p)
                engine._connection(frozenset()).execute("SET enable_object_cache = false")
                for k, v in figures.items():
                    samples[case].setdefault(k, []).append(v)
            for w, first in (("1", month(1)), ("8", month(8))):
                fp = params(FLOWS, first)
                lp = {k: v for k, v in fp.items() if k != "segment_overrides"}
                pair[w]["two_statements"].append(_timed(_two, engine, lp, fp))
                pair[w]["one_statement"].append(_timed(engine.run, LINKS_AND_FLOWS, **fp))
    engine.close()
    result["statements_ms_median"] = {
        case: {k: round(statistics.median(v), 1) for k, v in figures.items()}
        for case, figures in samples.items()
    }
    result["links_and_flows_ms_median"] = {
        f"{w} month(s)": {k: round(statistics.median(v), 1) for k, v in d.items()}
        | {"ratio": round(statistics.median(d["one_statement"]) / statistics.median(d["two_statements"]), 2)}
        for w, d in pair.items()
    }
    result["load_average_1m_after"] = round(__import__("os").getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("statements_ms_median", "links_and_flows_ms_median")}, indent=1))
    print("load", result["machine"]["load_average_1m"], "→", result["load_average_1m_after"], "calibration",
          result["calibration"]["python_loop_ms"])  # fmt: skip


if __name__ == "__main__":
    main()
