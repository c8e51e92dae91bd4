"""Run registered queries: DuckDB in process (the default) or Spark (see `jinyu.analytics.spark`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol

import duckdb
import pyarrow as pa

from jinyu.analytics import builds, duck, layout
from jinyu.analytics.errors import missing_dataset
from jinyu.analytics.fileset import FileSet
from jinyu.analytics.registry import Query, get_query
from jinyu.analytics.spark import SparkEngine
from jinyu.core.errors import invalid

EngineKind = Literal["duckdb", "spark"]


class Engine(Protocol):
    kind: str

    def run(self, query_name: str, /, **params: object) -> pa.Table: ...

    def run_query(self, query: Query, /, **params: object) -> pa.Table: ...

    def run_over_files(self, query: Query, parts: Mapping[str, FileSet], /, **params: object) -> pa.Table: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """Registered queries on an in-process DuckDB whose views read the lake's Parquet files.

    Each dataset is a view over `read_parquet(<dataset>/**/*.parquet)`. DuckDB lists the files when a
    statement is bound, so files appended after the view was made are seen by the next run. That is also
    why statements are not kept prepared: a prepared statement would keep its first file list. The SQL
    text itself is the registered DuckDB text; only the values change per call, and they are bound.
    """

    kind = "duckdb"

    def __init__(self, lake_root: Path) -> None:
        self.lake_root = Path(lake_root)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._views: set[str] = set()
        self._empty: set[str] = set()  # optional datasets read as empty stand-ins (no files yet)
        self._lock = threading.Lock()
        self._cursors: set[duckdb.DuckDBPyConnection] = set()  # running now (`interrupt`)
        self._interrupted = False

    def run(self, query_name: str, /, **params: object) -> pa.Table:
        return self.run_query(get_query(query_name), **params)

    def run_query(self, query: Query, /, **params: object) -> pa.Table:
        """A query built at run time (e.g. compiled from data), checked like a registered one, unregistered."""
        bound = query.bind(params)
        con = self._connection(query.datasets, query.optional)
        # A cursor is a connection of its own on the same database: runs from several threads do not share
        # one connection's state, and all of them see the views.
        cur = self._cursor(con)
        try:
            # A relation straight to Arrow; `execute(...).to_arrow_table()` would copy the rows once more.
            return cur.sql(query.sql, params=bound or None).to_arrow_table()
        finally:
            self._cursors.discard(cur)
            cur.close()

    def run_over_files(self, query: Query, parts: Mapping[str, FileSet], /, **params: object) -> pa.Table:
        """`query` with each table named in `parts` reading only that file set (plus its `_file` column)."""
        bound = query.bind(params)
        con = self._connection(query.datasets - set(parts), query.optional)
        cur = self._cursor(con)
        try:
            # Temporary views belong to the cursor's own connection: other runs never see them.
            for name, files in parts.items():
                cur.execute(
                    f"CREATE OR REPLACE TEMP VIEW {duck.quote_ident(name)} AS "
                    f"SELECT * FROM {duck.files_sql(self.lake_root, files)}"
                )
            return cur.sql(query.sql, params=bound or None).to_arrow_table()
        finally:
            self._cursors.discard(cur)
            cur.close()

    def _cursor(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        if self._interrupted:
            raise builds.Cancelled("engine interrupted")
        cur = con.cursor()
        self._cursors.add(cur)
        return cur

    def interrupt(self) -> None:
        """Stop the statements running now and refuse later ones (from another thread: a background build
        cancelled at exit, `builds`). Serving engines are never interrupted."""
        self._interrupted = True
        for cur in list(self._cursors):
            cur.interrupt()

    def open(self) -> None:
        """Start DuckDB and make the views of the datasets the lake holds now, as the first statement would
        (a server's start calls it: DuckDB's own start is ~0.1 s that the first visitor would otherwise wait).
        Datasets that appear later get their views on first use, as without it."""
        self._connection(frozenset(layout.dataset_names(self.lake_root)))

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._views.clear()
            self._empty.clear()

    def _connection(
        self, datasets: frozenset[str], optional: Mapping[str, pa.Schema] | None = None
    ) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = duck.connect()
            for dataset in sorted(datasets - self._views):
                if not layout.data_files(self.lake_root, dataset) and optional and dataset in optional:
                    # Not in the lake yet: an empty stand-in, until the dataset's first files appear.
                    if dataset not in self._empty:
                        duck.create_empty(self._con, dataset, optional[dataset], table=False)
                        self._empty.add(dataset)
                    continue
                self._create_view(self._con, dataset)
                self._empty.discard(dataset)
            return self._con

    def _create_view(self, con: duckdb.DuckDBPyConnection, dataset: str) -> None:
        # Checked only until the view exists; afterwards DuckDB itself lists the files on every run.
        if not layout.data_files(self.lake_root, dataset):
            raise missing_dataset(dataset, self.lake_root)
        con.execute(
            f"CREATE OR REPLACE VIEW {duck.quote_ident(dataset)} AS SELECT * FROM "
            f"{duck.scan_sql(self.lake_root, dataset)}"
        )
        self._views.add(dataset)


def open_engine(kind: EngineKind, lake_root: Path, *, spark_master: str = "local[2]") -> Engine:
    """The engine of that kind over the lake at `lake_root`; Spark's session starts on its first run."""
    if kind == "duckdb":
        return DuckDBEngine(lake_root)
    if kind == "spark":
        return SparkEngine(lake_root, master=spark_master)
    raise invalid("kind", f"未知引擎 / unknown engine {kind!r}; expected 'duckdb' or 'spark'")
