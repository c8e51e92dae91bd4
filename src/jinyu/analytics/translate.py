"""DuckDB-dialect query text → Spark SQL, once per query text.

sqlglot does the dialect work (`strftime` → `date_format`, `arg_max` → `max_by`, `||`, null ordering...);
its `$name` placeholders come out as `:name`, Spark 3.5's named parameter markers, so values are still
bound by Spark and never pasted into the text. Unsupported constructs raise instead of producing SQL that
only looks right. The output is what the golden files under tests/analytics/golden/ pin down.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from jinyu.analytics.registry import Query, parse
from jinyu.core.errors import invalid


def spark_sql(query: Query) -> str:
    return _translate(query.name, query.sql)


@lru_cache(maxsize=512)
def _translate(name: str, sql: str) -> str:
    tree = parse(name, sql)
    try:
        text = tree.sql(dialect="spark", pretty=True, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise invalid("sql", f"{name}: 无法翻译为 Spark SQL / cannot translate to Spark SQL: {exc}") from None
    _check_same_markers(name, tree, sqlglot.parse_one(text, read="spark"))
    return text


def _check_same_markers(name: str, source: exp.Expr, translated: exp.Expr) -> None:
    # A placeholder lost or renamed in translation would bind the wrong value or none at all.
    before = sorted(p.name for p in source.find_all(exp.Placeholder))
    after = sorted(p.name for p in translated.find_all(exp.Placeholder))
    if before != after:
        raise invalid(
            "sql", f"{name}: 翻译后参数变了 / parameters changed in translation: {before} → {after}"
        )
