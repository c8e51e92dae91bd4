"""DuckDB plumbing shared by the lake's checks and the DuckDB engine."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jinyu.analytics import layout

# UTC so TIMESTAMPTZ values come back as UTC (the house rule: store UTC) whatever the host's zone is.
# Extensions are never fetched at run time: the hub runs without internet; parquet and icu are built in.
_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    # The time zone belongs to the built-in icu extension, which is not there yet when the config is read;
    # GLOBAL so that every cursor of this connection has it too.
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    return con


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scan_sql(root: Path, dataset: str) -> str:
    """A `read_parquet(...)` over every file of the dataset; the month partition is read as text."""
    glob = quote_literal(str(layout.dataset_dir(root, dataset) / "**" / "*.parquet"))
    if layout.is_partitioned(root, dataset):
        # Typed explicitly: left to inference DuckDB could turn a partition value into a date or number.
        return (
            f"read_parquet({glob}, hive_partitioning = true, "
            f"hive_types = {{{quote_literal(layout.PARTITION_COLUMN)}: 'VARCHAR'}})"
        )
    return f"read_parquet({glob}, hive_partitioning = false)"
