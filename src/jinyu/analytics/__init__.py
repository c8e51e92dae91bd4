"""Analytics: the Parquet lake and the engines that query it (DuckDB by default, Spark when outgrown).

The only package that imports duckdb or pyspark. Queries are named, DuckDB-dialect SQL with typed, bound
parameters; the same registry runs on Spark through a sqlglot translation. See docs/analytics.md.
"""

from __future__ import annotations

from jinyu.analytics import queries as _builtin_queries  # noqa: F401  registers the platform's queries
from jinyu.analytics.engine import DuckDBEngine, Engine, EngineKind, open_engine
from jinyu.analytics.errors import EngineUnavailable
from jinyu.analytics.fileset import FILE_COLUMN, FileSet, file_path
from jinyu.analytics.lake import Lake
from jinyu.analytics.params import Month, NonNegativeInt
from jinyu.analytics.registry import Query, all_queries, get_query, register
from jinyu.analytics.results import ResultCache, shared_results
from jinyu.analytics.spark import SparkEngine, stop_spark
from jinyu.analytics.translate import spark_sql

__all__ = [
    "FILE_COLUMN",
    "DuckDBEngine",
    "Engine",
    "EngineKind",
    "EngineUnavailable",
    "FileSet",
    "Lake",
    "Month",
    "NonNegativeInt",
    "Query",
    "ResultCache",
    "SparkEngine",
    "all_queries",
    "file_path",
    "get_query",
    "open_engine",
    "register",
    "shared_results",
    "spark_sql",
    "stop_spark",
]
