"""Row writes and commits per settlement, from PostgreSQL's own counters for the benchmark's database.

Why: CPU per settlement moves with the machine; the rows and transactions a settlement costs do not, so they
show whether a change cut work or only met a faster machine. `pg_stat_user_tables` counts every row inserted,
updated (HOT or not) and deleted per table; `pg_stat_database` the commits. Backends report their counters
at most once a second and, once idle, within 10 s (PostgreSQL 15), so `settled()` waits for that before
reading: call it while the server is idle (before and after a phase).

The server-wide checkpoint counters (`pg_stat_bgwriter`) are read too: a checkpoint that falls into a phase
charges that phase with the checkpointer's writes (counted in its PostgreSQL CPU) and with the full-page images
every first change of a page writes after it. On a shared server they also count other databases' checkpoints
(a checkpoint is for the whole cluster); `checkpoints_in_phase` says whether one happened.

Rows read by sequential scans per settlement (`seq_rows_read`, by table) and the server's `autovacuum` setting are
recorded too: with autovacuum off nothing analyses the benchmark's new tables, and a connection whose prepared
reads got their generic plans while the tables were nearly empty scans them whole for every settlement, a cost
that grows with the tables (docs/claims.md, issue 20, branch h-as). Small tables are rightly read whole (the
ledger books, a fresh run's first rows); what to look for is `claim_settlements`, `claim_messages` or
`claim_accumulators` read in the thousands of rows per settlement, growing from one phase to the next.
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
        stats = conn.execute(
            text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del, seq_tup_read FROM pg_stat_user_tables")
        ).all()
        autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
        database = conn.execute(
            text(
                "SELECT xact_commit, xact_rollback, blks_hit, blks_read, tup_returned, tup_fetched "
                "FROM pg_stat_database WHERE datname = current_database()"
            )
        ).one()
        checkpoints = conn.execute(
            text("SELECT checkpoints_timed + checkpoints_req, buffers_checkpoint FROM pg_stat_bgwriter")
        ).one()
    engine.dispose()
    return {
        "tables": {name: int(written) for name, written, _ in stats},
        "seq_rows_read": {name: int(read or 0) for name, _, read in stats},
        "autovacuum": str(autovacuum),
        "commits": int(database[0]),
        "work": {
            "rollbacks": int(database[1]),
            "buffer_hits": int(database[2]),
            "buffer_reads": int(database[3]),
            "tuples_returned": int(database[4]),
            "tuples_fetched": int(database[5]),
        },
        "checkpoints": int(checkpoints[0]),
        "buffers_checkpoint": int(checkpoints[1]),
    }


def per_settlement(before: dict[str, Any], after: dict[str, Any], settlements: int) -> dict[str, Any]:
    """Rows written per settlement (total and by table, sealing of the audit entries included) and commits
    per settlement (the batches', and every other transaction on the database meanwhile)."""
    n = max(1, settlements)
    by_table = {
        name: round((count - before["tables"].get(name, 0)) / n, 2)
        for name, count in sorted(after["tables"].items())
        if count != before["tables"].get(name, 0)
    }
    scanned = {
        name: round((count - before.get("seq_rows_read", {}).get(name, 0)) / n, 1)
        for name, count in sorted(after.get("seq_rows_read", {}).items())
        if count != before.get("seq_rows_read", {}).get(name, 0)
    }
    return {
        "row_writes": round(sum(by_table.values()), 2),
        "row_writes_by_table": by_table,
        "commits": round((after["commits"] - before["commits"]) / n, 3),
        "checkpoints_in_phase": after.get("checkpoints", 0) - before.get("checkpoints", 0),
        "checkpoint_buffers_written_in_phase": after.get("buffers_checkpoint", 0)
        - before.get("buffers_checkpoint", 0),
        "seq_rows_read": round(sum(scanned.values()), 1),
        "seq_rows_read_by_table": scanned,
        "autovacuum": after.get("autovacuum"),
        # the work PostgreSQL did for the database, per settlement and per commit: a measure of statements'
        # work that the machine's speed does not move (h-bu)
        "work": {
            name: {
                "per_settlement": round((count - before.get("work", {}).get(name, 0)) / n, 2),
                "per_commit": round(
                    (count - before.get("work", {}).get(name, 0))
                    / max(1, after["commits"] - before["commits"]),
                    2,
                ),
            }
            for name, count in after.get("work", {}).items()
        },
    }
