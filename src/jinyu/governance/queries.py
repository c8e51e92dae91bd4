"""Run a compiled check plan through `jinyu.analytics` (DuckDB by default, Spark for parity)."""

from __future__ import annotations

from typing import Any

from jinyu.analytics import Engine, Query
from jinyu.governance.sqlplan import CheckPlan


def run_plan(engine: Engine, plan: CheckPlan, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's aggregate rows. The plan is a query built from data, so it is checked like a registered one
    (one read-only statement, declared parameters) but not registered: the registry holds the platform's
    fixed queries, and rule sets change at run time. Its name derives from its SQL text."""
    query = Query(plan.name, plan.sql, plan.params, f"quality check of {plan.dataset}")
    bound = {k: v for k, v in params.items() if k in plan.params}
    return list(engine.run_query(query, **bound).to_pylist())
