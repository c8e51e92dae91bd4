"""DuckDB plumbing shared by the lake's checks and the DuckDB engine."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

from jinyu.analytics import layout
from jinyu.analytics.fileset import FILE_COLUMN, FileSet

# UTC so TIMESTAMPTZ values come back as UTC (the house rule: store UTC) whatever the host's zone is.
# Extensions are never fetched at run time: the hub runs without internet; parquet and icu are built in.
_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def connect() -> duckdb.DuckDBPyConnection:
    # Threads as the machine's cores, said explicitly: scans and joins run in parallel on every core (DuckDB's
    # own default is the same; fixing it here keeps a changed default from halving a check's speed).
    con = duckdb.connect(":memory:", config={**_CONFIG, "threads": os.cpu_count() or 1})
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


def files_sql(root: Path, files: FileSet) -> str:
    """A `read_parquet(...)` over exactly `files` of one dataset, each row with its file's path as `_file`."""
    paths = ", ".join(quote_literal(str(p)) for p in files.paths) or "[]"
    hive = (
        f"hive_partitioning = true, hive_types = {{{quote_literal(layout.PARTITION_COLUMN)}: 'VARCHAR'}}"
        if layout.is_partitioned(root, files.dataset)
        else "hive_partitioning = false"
    )
    scan = f"read_parquet([{paths}], {hive}, filename = true)"
    return f"(SELECT * EXCLUDE (filename), filename AS {FILE_COLUMN} FROM {scan})"


def create_empty(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, *, table: bool) -> None:
    """`name` as an empty table (or a view over one) with `schema`'s columns and types: a dataset the lake
    has no files of yet reads as no rows instead of failing the query."""
    stand_in = quote_ident(f"__jinyu_empty_{name}")
    con.register("__jinyu_empty_arrow", schema.empty_table())
    try:
        if table:
            con.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} AS SELECT * FROM __jinyu_empty_arrow")
        else:
            con.execute(f"CREATE OR REPLACE TABLE {stand_in} AS SELECT * FROM __jinyu_empty_arrow")
            con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS SELECT * FROM {stand_in}")
    finally:
        con.unregister("__jinyu_empty_arrow")
