"""The Spark engine: the same registered queries, translated to Spark SQL, on a (local or cluster) session.

PySpark is optional (the `spark` extra) and imported only when a session is first needed, so the rest of
the package works without it. The session is one per process and reused: starting the JVM takes seconds.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from jinyu.analytics import layout
from jinyu.analytics.errors import EngineUnavailable, missing_dataset
from jinyu.analytics.fileset import FILE_COLUMN, FileSet
from jinyu.analytics.registry import Query, get_query
from jinyu.analytics.translate import spark_sql
from jinyu.core.errors import Conflict

# Modest settings for a local session on a small machine; a cluster's own defaults override none of the
# semantic ones (time zone, ANSI, partition typing), which the parity with DuckDB depends on.
SESSION_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "4",
    # Timestamps in and out as UTC, as DuckDB is configured: the house rule is to store UTC.
    "spark.sql.session.timeZone": "UTC",
    # ANSI mode errors on overflow and bad casts as DuckDB does, instead of returning NULL.
    "spark.sql.ansi.enabled": "true",
    # Partition values stay text ('2024-01'), as DuckDB reads them; inference could make them dates.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    # Nothing is written by queries; keep Spark from creating spark-warehouse/ in the working directory.
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "jinyu-spark-warehouse"),
}
_LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}

_LOCK = threading.RLock()
_session: Any = None
_master: str | None = None


def spark_session(master: str = "local[2]") -> Any:
    """The process's Spark session, started on first use with `master`."""
    global _session, _master
    with _LOCK:
        if _session is None:
            _session = _start(master)
            _master = master
        elif master != _master:
            raise Conflict(
                detail=f"Spark 会话已在 {_master} 上 / the Spark session already runs on {_master!r}"
            )
        return _session


def stop_spark() -> None:
    """Stop the process's session (tests, shutdown); the next run starts a new one."""
    global _session, _master
    with _LOCK:
        if _session is not None:
            _session.stop()
        _session, _master = None, None


def _start(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            detail="未安装 PySpark / PySpark is not installed (install jinyu with the 'spark' extra)"
        ) from None
    builder = SparkSession.builder.master(master).appName("jinyu-analytics")
    conf = {**SESSION_CONF, **(_LOCAL_CONF if master.startswith("local") else {})}
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # PySpark reports a missing or failing JVM as a generic runtime error
        raise EngineUnavailable(
            detail="无法启动 Spark（需要 Java 17）/ "
            f"cannot start Spark (Java 17 must be on PATH or JAVA_HOME): {exc}"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Registered queries on Spark: Spark SQL translated once per query, values bound as `:name` markers."""

    kind = "spark"

    def __init__(self, lake_root: Path, master: str = "local[2]") -> None:
        self.lake_root = Path(lake_root)
        self.master = master

    def run(self, query_name: str, /, **params: object) -> pa.Table:
        return self.run_query(get_query(query_name), **params)

    def run_query(self, query: Query, /, **params: object) -> pa.Table:
        """A query built at run time (e.g. compiled from data), checked like a registered one, unregistered."""
        bound = query.bind(params)
        text = spark_sql(query)
        spark = spark_session(self.master)
        # Temp views are per session, and the session is shared by every engine in the process: register
        # and analyse under one lock, so a run never resolves a view another lake root registered.
        # `spark.sql` analyses eagerly, so the frame keeps its own file list once it is returned.
        with _LOCK:
            for dataset in sorted(query.datasets):
                self._register(spark, dataset, query.optional.get(dataset))
            frame = spark.sql(text, args=bound or None)
        return _to_arrow(frame)

    def run_over_files(self, query: Query, parts: Mapping[str, FileSet], /, **params: object) -> pa.Table:
        """`query` with each table named in `parts` reading only that file set (plus its `_file` column)."""
        from pyspark.sql.functions import input_file_name

        bound = query.bind(params)
        text = spark_sql(query)
        spark = spark_session(self.master)
        with _LOCK:
            for dataset in sorted(query.datasets - set(parts)):
                self._register(spark, dataset, query.optional.get(dataset))
            for name, files in parts.items():
                base = layout.dataset_dir(self.lake_root, files.dataset)
                frame = spark.read.option("basePath", str(base)).parquet(*(str(p) for p in files.paths))
                frame.withColumn(FILE_COLUMN, input_file_name()).createOrReplaceTempView(name)
            frame = spark.sql(text, args=bound or None)
        return _to_arrow(frame)

    def close(self) -> None:
        """Nothing to release per engine; the shared session ends with `stop_spark()` or the process."""

    def _register(self, spark: Any, dataset: str, empty: pa.Schema | None = None) -> None:
        # Registered on every run from the lake's committed files (the same list DuckDB reads), so each run
        # sees the loads made before it, as a DuckDB run does.
        files = layout.data_files(self.lake_root, dataset)
        if not files and empty is not None:  # an optional dataset the lake has no files of yet: no rows
            from pyspark.sql.pandas.types import from_arrow_schema

            spark.createDataFrame([], from_arrow_schema(empty)).createOrReplaceTempView(dataset)
            return
        if not files:
            raise missing_dataset(dataset, self.lake_root)
        base = layout.dataset_dir(self.lake_root, dataset)
        frame = spark.read.option("basePath", str(base)).parquet(*(str(f) for f in files))
        frame.createOrReplaceTempView(dataset)


def _to_arrow(frame: Any) -> pa.Table:
    """Collect as Arrow record batches, as `toPandas` does, without pandas (Spark 3.5 has no `toArrow`).

    Spark marks aggregate results NOT NULL where DuckDB does not; fields are made nullable so that both
    engines return the same schema.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(frame.schema)
    batches = frame._collect_as_arrow()
    table = pa.Table.from_batches(batches) if batches else schema.empty_table()
    nullable = pa.schema([f.with_nullable(True) for f in schema])
    return table.cast(nullable)
