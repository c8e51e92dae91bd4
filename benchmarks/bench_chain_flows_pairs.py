"""Monthly segment flows from member-pair sums made at load, against the statement over the transfers.

An experiment, not the product: `chain_segment_flows` scans every transfer of the window and probes the
member accounts with both ends (docs/chains.md, "Scale"). Here the transfers between two members' accounts of
the chain are summed once per month and payer/payee enterprise (`member_pairs`, written as Parquet partitioned
by month, as a load could write it), and a window's flows are a group-by of those sums joined to the members'
segments. Segments are joined after the sums, so segment overrides need no rebuild; the chain's membership
does (a load of `chain_members` would rebuild the pairs). Only the statement's SQL with no overrides is
compared; both answers are checked equal (every month, segment pair, count and amount).

Runs on the lake bench_chains.py --lake-dir keeps (20M transfers). Alternates the two, --repeat rounds each.

Usage: uv run python benchmarks/bench_chain_flows_pairs.py --lake-dir DIR [--repeat 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, python_loop_ms, result_path

RESULTS = Path(__file__).resolve().parent / "results"
STATEMENT = Path(__file__).resolve().parents[1] / "src/jinyu/analytics/queries/chain_segment_flows.sql"
CHAIN = "'new_display'"

MEMBER_PAIRS = f"""
WITH member_accounts AS (
    SELECT a.account_no, m.uscc
    FROM accounts AS a
    JOIN (SELECT DISTINCT uscc FROM chain_members WHERE chain_code = {CHAIN}) AS m ON m.uscc = a.owner_id
)
SELECT t.month, p.uscc AS payer, q.uscc AS payee, count(*) AS txn_count, sum(t.amount) AS amount
FROM transfers AS t
JOIN member_accounts AS p ON p.account_no = t.from_account
JOIN member_accounts AS q ON q.account_no = t.to_account
GROUP BY ALL
ORDER BY t.month, payer"""

FROM_PAIRS = f"""
WITH members AS (SELECT uscc, segment FROM chain_members WHERE chain_code = {CHAIN})
SELECT l.month, p.segment AS from_segment, q.segment AS to_segment, sum(l.txn_count) AS txn_count,
    CAST(sum(l.amount) AS DECIMAL(38, 2)) AS total_amount
FROM member_pairs AS l
JOIN members AS p ON p.uscc = l.payer
JOIN members AS q ON q.uscc = l.payee
WHERE l.month BETWEEN $from_month AND $to_month
GROUP BY ALL
ORDER BY 1, 2, 3"""


def _views(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    con.execute(
        f"CREATE VIEW transfers AS SELECT * FROM read_parquet('{lake}/transfers/*/*.parquet', "
        "hive_partitioning = true)"
    )
    for name in ("accounts", "chain_members"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{lake}/{name}/*.parquet')")


def _window(sql: str, first: str, last: str) -> str:
    return sql.replace("$from_month", f"'{first}'").replace("$to_month", f"'{last}'")


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float, list[Any]]:
    started, cpu = time.perf_counter(), time.process_time()
    rows = con.execute(sql).fetchall()
    return time.perf_counter() - started, time.process_time() - cpu, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake-dir", type=Path, required=True, help="a lake bench_chains.py --lake-dir kept")
    ap.add_argument("--from-month", default="2024-01")
    ap.add_argument("--to-month", default="2024-12")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=result_path, default=RESULTS / "chain-flows-pairs.json")
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine_info(), "calibration_python_loop_ms": python_loop_ms()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    statement = STATEMENT.read_text(encoding="utf-8")
    statement = statement.replace("$segment_overrides", "''").replace("$chain_code", CHAIN)
    statement = _window(statement, args.from_month, args.to_month)
    from_pairs = _window(FROM_PAIRS, args.from_month, args.to_month)
    con = duckdb.connect()
    _views(con, args.lake_dir)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        con.execute(
            f"COPY ({MEMBER_PAIRS}) TO '{tmp}/pairs' (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)"
        )
        made = time.perf_counter() - started
        con.execute(
            f"CREATE VIEW member_pairs AS SELECT * FROM read_parquet('{tmp}/pairs/*/*.parquet', "
            "hive_partitioning = true)"
        )
        pairs = con.execute("SELECT count(*) FROM member_pairs").fetchone()
        times: dict[str, list[tuple[float, float]]] = {"statement": [], "from_member_pairs": []}
        answers: dict[str, list[Any]] = {}
        for _ in range(args.repeat):
            for name, sql in (("statement", statement), ("from_member_pairs", from_pairs)):
                wall, cpu, answers[name] = _timed(con, sql)
                times[name].append((wall, cpu))
    con.close()
    assert answers["statement"] == answers["from_member_pairs"], "the two answers differ"
    for name, runs in times.items():
        result[name] = {
            "wall_s": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s": round(statistics.median(c for _, c in runs), 3),
        }
    result |= {
        "member_pairs_rows": pairs[0] if pairs else None,
        "member_pairs_made_wall_s": round(made, 2),
        "groups": len(answers["statement"]),
        "equal": True,
        "statement_over_pairs": {
            k: round(result["statement"][k] / result["from_member_pairs"][k], 2) for k in ("wall_s", "cpu_s")
        },
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "parameters": {k: str(v) for k, v in vars(args).items()},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
