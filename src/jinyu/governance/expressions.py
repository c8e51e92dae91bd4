"""Row conditions of `expression` rules: a small, checked subset of SQL over one dataset's columns.

A condition arrives as text from YAML or the API, so it is parsed (sqlglot, DuckDB dialect) and every node is
checked against an allow-list: the dataset's own columns, literals, arithmetic, comparisons, AND/OR/NOT,
IS NULL, IN with literals, COALESCE and ABS. Anything else (subqueries, other tables, functions that read files
or the clock) is refused, so a rule can only ever read the row it judges.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from jinyu.core.errors import invalid
from jinyu.governance.contracts import Contract

_ALLOWED: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Neg,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Coalesce,
    exp.Abs,
    exp.Tuple,
)


def _parse(condition: str) -> exp.Expr:
    try:
        return sqlglot.parse_one(condition, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise invalid("condition", f"条件无法解析 / the condition does not parse: {exc}") from None


def check_condition(condition: str, contract: Contract) -> exp.Expr:
    """The parsed condition, or `InvalidInput` naming what is not allowed."""
    tree = _parse(condition)
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise invalid("condition", f"条件中不允许 / not allowed in a condition: {node.key.upper()}")
        if isinstance(node, exp.Column) and (node.table or node.name not in contract.column_names):
            raise invalid("condition", f"{contract.name} 没有列 / has no column {node.sql()!r}")
    return tree


def qualified_condition(condition: str, contract: Contract, alias: str) -> str:
    """The condition in DuckDB SQL with every column read from the table alias `alias`."""
    tree = check_condition(condition, contract)

    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            return exp.column(node.name, table=alias, quoted=True)
        return node

    return tree.transform(qualify).sql(dialect="duckdb")
