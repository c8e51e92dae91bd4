"""Row writes and commits per settlement, from PostgreSQL's own counters for the benchmark's database.

Why: CPU per settlement moves with the machine; the rows and transactions a settlement costs do not, so they
show whether a change cut work or only met a faster machine. `pg_stat_user_tables` counts every row inserted,
updated (HOT or not) and deleted per table; `pg_stat_database` the commits. Backends report their counters
at most once a second and, once idle, within 10 s (PostgreSQL 15), so `settled()` waits for that before
reading: call it while the server is idle (before and after a phase).
"""

from __future__ import annotations

import time
from typing import Any

_WAIT_S = 11.0  # PGSTAT_IDLE_INTERVAL (10 s) and a margin


def counters(url: str, *, wait: bool = True) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    if wait:
        time.sleep(_WAIT_S)
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = {
            name: int(n)
            for name, n in conn.execute(
                text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables")
            )
        }
        commits = conn.execute(
            text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        ).scalar_one()
    engine.dispose()
    return {"tables": tables, "commits": int(commits)}


def per_settlement(before: dict[str, Any], after: dict[str, Any], settlements: int) -> dict[str, Any]:
    """Rows written per settlement (total and by table, sealing of the audit entries included) and commits
    per settlement (the batches', and every other transaction on the database meanwhile)."""
    n = max(1, settlements)
    by_table = {
        name: round((count - before["tables"].get(name, 0)) / n, 2)
        for name, count in sorted(after["tables"].items())
        if count != before["tables"].get(name, 0)
    }
    return {
        "row_writes": round(sum(by_table.values()), 2),
        "row_writes_by_table": by_table,
        "commits": round((after["commits"] - before["commits"]) / n, 3),
    }
