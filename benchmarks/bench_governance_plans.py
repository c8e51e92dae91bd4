"""Where the standard `loans` check's time goes: the compiled plan against other formulations of it and its bounds.

On a lake built by `bench_governance.py` (`--lake DIR`, with the hashed keys), times in interleaved rounds
(every variant once per round after a warm-up round; medians of --repeat rounds) the wall time AND the
process CPU time (DuckDB's threads are in this process: on a shared machine the CPU seconds move less with the
load than the wall time) of:
- `plan`: the SQL `sqlplan.compile_plan` makes for the four standard `loans` rules (what the service runs;
  since issue 15's h-ap change the keyed reference joins every record to all registered keys, no distinct
  step over the records);
- `plan_without_reference`: the same with the reference rule left out;
- `unknown_keys`: the plan before that change: the records' distinct keys that the target lacks first, then
  every record joined to those few unknown keys;
- `semi_join`: the reference counted in a second branch over only the records whose key is one of the
  unknown keys (an inner join DuckDB answers with a Bloom filter pushed into the Parquet scan), summed with a
  branch of the range rules; `n_anomalous` exact by adding the branch's records that fail no range rule;
- `count_if`: `count_if(...)` instead of `COUNT(*) FILTER (...)`;
- `no_not_null`: the plan without the `IS NOT NULL` filter of the registered keys (a NULL key joins nothing);
- bounds: `decode_floor` (the plan's columns read and grouped by month and bank, no rule evaluated) and
  `reference_distinct` (the distinct keys of every record alone).
Every formulation's failure counts are asserted equal to the plan's. Writes
benchmarks/results/governance-plans-<rows>M<tag>.json with machine_info() and calibration().

Usage: uv run python benchmarks/bench_governance_plans.py --lake DIR [--repeat 5] [--tag=-x]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_governance import AS_OF, FLOOR_SQL
from machine import calibration, machine_info

from jinyu.analytics import Lake
from jinyu.analytics.duck import connect, scan_sql
from jinyu.governance.service import keyed_columns, standard_rules
from jinyu.governance.sqlplan import compile_plan

RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = 't."month" AS period, t."bank_code" AS provider'


def variants(lake: Lake) -> dict[str, str]:
    rules = [r for r in standard_rules() if r.dataset == "loans"]
    keyed = keyed_columns(lake, "loans", rules)
    plan = compile_plan("loans", rules, {"loans", "enterprises"}, True, keyed=keyed)
    assert [r.kind for r in plan.row_rules] == ["range", "range", "reference", "range"], plan.row_rules
    sql = plan.sql.replace("$as_of", f"DATE '{AS_OF.isoformat()}'")
    ranges = compile_plan(
        "loans", [r for r in rules if r.kind != "reference"], {"loans", "enterprises"}, True, keyed=keyed
    ).sql.replace("$as_of", f"DATE '{AS_OF.isoformat()}'")
    # The failure conditions as the compiler wrote them (r0, r1, r3: ranges; r2: the reference).
    conditions = [
        line.split("FILTER (WHERE ", 1)[1].rsplit(") AS r", 1)[0]
        for line in sql.splitlines()
        if "FILTER (WHERE" in line and ") AS r" in line
    ]
    f0, f1, f2, f3 = conditions
    registered = 'SELECT DISTINCT "uscc__key" AS k FROM "enterprises" WHERE "uscc__key" IS NOT NULL'
    joined = f'LEFT JOIN ({registered}) AS j2 ON t."borrower_uscc__key" = j2.k'
    assert joined in sql and f2 == '(t."borrower_uscc__key" IS NOT NULL AND j2.k IS NULL)', (sql, f2)
    # The records' distinct keys the target lacks (the reference's first step before the change).
    unknown = (
        'SELECT d.v AS k FROM (SELECT DISTINCT "borrower_uscc__key" AS v FROM "loans" WHERE "borrower_uscc__key" '
        'IS NOT NULL) AS d LEFT JOIN (SELECT DISTINCT "uscc__key" AS v FROM "enterprises" WHERE "uscc__key" IS '
        "NOT NULL) AS e ON d.v = e.v WHERE e.v IS NULL"
    )
    unknown_keys = sql.replace(
        joined, f'LEFT JOIN ({unknown}) AS j2 ON t."borrower_uscc__key" = j2.k'
    ).replace(f2, "(j2.k IS NOT NULL)")
    other = f"({f0} OR {f1} OR {f3})"
    semi = (
        "SELECT period, provider, SUM(n_rows) AS n_rows, SUM(r0) AS r0, SUM(r1) AS r1, SUM(r2) AS r2, "
        "SUM(r3) AS r3, SUM(n_anomalous) AS n_anomalous FROM (\n"
        f"SELECT {GROUPS}, COUNT(*) AS n_rows, COUNT(*) FILTER (WHERE {f0}) AS r0, "
        f"COUNT(*) FILTER (WHERE {f1}) AS r1, 0 AS r2, COUNT(*) FILTER (WHERE {f3}) AS r3, "
        f"COUNT(*) FILTER (WHERE {other}) AS n_anomalous FROM loans AS t GROUP BY 1, 2\nUNION ALL\n"
        f"SELECT {GROUPS}, 0, 0, 0, COUNT(*), 0, COUNT(*) FILTER (WHERE NOT {other}) FROM loans AS t "
        f"JOIN ({unknown}) AS j ON t.borrower_uscc__key = j.k GROUP BY 1, 2) GROUP BY 1, 2"
    )
    count_if = sql
    for c in conditions:
        count_if = count_if.replace(f"COUNT(*) FILTER (WHERE {c})", f"count_if({c})")
    count_if = count_if.replace(
        "COUNT(*) FILTER (WHERE " + " OR ".join(conditions) + ")", "count_if(" + " OR ".join(conditions) + ")"
    )
    no_not_null = sql.replace(f"({registered})", f"({registered.split(' WHERE ')[0]})")
    out = {
        "plan": sql,
        "plan_without_reference": ranges,
        "unknown_keys": unknown_keys,
        "semi_join": semi,
        "count_if": count_if,
        "no_not_null": no_not_null,
        **FLOOR_SQL,
    }
    for name in ("unknown_keys", "count_if", "no_not_null"):
        assert out[name] != sql, name  # the rewrite applied
    return out


def counts(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(int(v) if v is not None and not isinstance(v, str) else v for v in r) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True, help="a lake bench_governance.py built (--lake)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    args = parser.parse_args()
    lake = Lake(args.lake)
    queries = variants(lake)
    con = connect()
    for dataset in ("loans", "enterprises"):
        con.execute(f"CREATE VIEW {dataset} AS SELECT * FROM {scan_sql(args.lake, dataset)}")
    expected = counts(con.execute(queries["plan"]).fetchall())  # also the warm-up round's first query
    same = {}
    for name, sql in queries.items():
        if name == "plan":
            continue
        rows = con.execute(sql).fetchall()  # the warm-up run of each variant
        if name not in FLOOR_SQL and name != "plan_without_reference":
            same[name] = counts(rows) == expected
            assert same[name], f"{name}: other failure counts than the plan"
    wall: dict[str, list[float]] = {n: [] for n in queries}
    cpu: dict[str, list[float]] = {n: [] for n in queries}
    for _ in range(args.repeat):
        for name, sql in queries.items():
            c0, t0 = time.process_time(), time.perf_counter()
            con.execute(sql).fetchall()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    rows = sum(r[2] for r in expected)
    result = {
        "benchmark": "governance-plans",
        "rows": rows,
        "lake": str(args.lake),
        "repeat": args.repeat,
        "wall_s": {n: round(statistics.median(v), 3) for n, v in wall.items()},
        "cpu_s": {n: round(statistics.median(v), 3) for n, v in cpu.items()},
        "same_failure_counts_as_plan": same,
        "sql": queries,
        "load_average": list(os.getloadavg()),
        "machine": machine_info(),
        "calibration": calibration(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"governance-plans-{round(rows / 1_000_000)}M{args.tag}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    for n in queries:
        print(f"{n:24s} wall {result['wall_s'][n]:.3f} s  cpu {result['cpu_s'][n]:.3f} s")
    print("load", result["load_average"], "calibration", result["calibration"])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
