"""The registry of named queries: DuckDB-dialect SQL with typed `$name` parameters.

A query is checked when it is defined, not when it first runs: the SQL must parse as one read-only
statement, every `$name` in it must be declared and every declared parameter used. The datasets it reads
(its table names, less its CTEs) are worked out once, so an engine can name a missing dataset plainly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pyarrow as pa
import sqlglot
from sqlglot import exp

from jinyu.analytics.params import CHECKS, bind
from jinyu.core.errors import Conflict, NotFound, invalid

DIALECT = "duckdb"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """A named query. `params` maps each `$name` in `sql` to its type (see `jinyu.analytics.params`).

    `optional`: datasets a lake may not have yet (added to the hub later than others), each with the schema
    its view has (the partition column `month` included for a partitioned dataset). Engines read such a
    dataset without files as an empty table of that schema instead of refusing the query."""

    name: str
    sql: str
    params: Mapping[str, type]
    description: str
    optional: Mapping[str, pa.Schema] = field(default_factory=dict)
    datasets: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        unsupported = {n: t for n, t in self.params.items() if t not in CHECKS}
        if unsupported:
            raise invalid(
                "params", f"{self.name}: 不支持的参数类型 / unsupported parameter type: {unsupported}"
            )
        tree = parse(self.name, self.sql)
        _check_placeholders(self.name, tree, set(self.params))
        object.__setattr__(self, "datasets", _datasets(tree))
        object.__setattr__(self, "optional", MappingProxyType(dict(self.optional)))
        unknown = sorted(set(self.optional) - self.datasets)
        if unknown:
            raise invalid(
                "optional", f"{self.name}: 查询未读取这些数据集 / the query does not read {unknown}"
            )

    def bind(self, values: Mapping[str, object]) -> dict[str, object]:
        """The checked parameter values, or `InvalidInput` with one field error per bad parameter."""
        return bind(self.params, values)


def parse(name: str, sql: str) -> exp.Query:
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise invalid("sql", f"{name}: SQL 无法解析 / SQL does not parse: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise invalid("sql", f"{name}: 须为一条 SELECT 语句 / must be exactly one SELECT statement")
    return statements[0]


def _check_placeholders(name: str, tree: exp.Expr, declared: set[str]) -> None:
    if any(True for _ in tree.find_all(exp.Parameter)):
        raise invalid("sql", f"{name}: 只能用命名参数 $name / only named parameters $name are allowed")
    used = set()
    for node in tree.find_all(exp.Placeholder):
        if not _NAME_RE.match(node.name):  # `?` or `$1`: positional, so easy to bind in the wrong order
            raise invalid("sql", f"{name}: 只能用命名参数 $name / only named parameters $name are allowed")
        used.add(node.name)
    if used != declared:
        raise invalid(
            "params",
            f"{name}: SQL 中的参数与声明不一致 / SQL parameters differ from the declared ones: "
            f"undeclared {sorted(used - declared)}, unused {sorted(declared - used)}",
        )


def _datasets(tree: exp.Expr) -> frozenset[str]:
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes)


_LOCK = threading.Lock()
_QUERIES: dict[str, Query] = {}


def register(query: Query) -> Query:
    """Add a query. Registering the same definition again is a no-op (modules may be re-imported)."""
    with _LOCK:
        known = _QUERIES.get(query.name)
        if known is None:
            _QUERIES[query.name] = query
            return query
    if known != query:
        raise Conflict(detail=f"查询名已被占用 / query name already registered: {query.name!r}")
    return known


def get_query(name: str) -> Query:
    try:
        return _QUERIES[name]
    except KeyError:
        raise NotFound(detail=f"没有名为 {name} 的查询 / no query named {name!r}") from None


def all_queries() -> list[Query]:
    """Every registered query, by name."""
    with _LOCK:
        return sorted(_QUERIES.values(), key=lambda q: q.name)
