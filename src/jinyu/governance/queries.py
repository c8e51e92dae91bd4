"""Run a compiled check plan through `jinyu.analytics` (DuckDB by default, Spark for parity)."""

from __future__ import annotations

from typing import Any

from jinyu.analytics import Engine, Query, register
from jinyu.governance.sqlplan import CheckPlan


def run_plan(engine: Engine, plan: CheckPlan, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's aggregate rows. The plan is registered under a name derived from its SQL text, so the same
    rule set compiles and registers once, and the engines cache its translation."""
    register(Query(plan.name, plan.sql, plan.params, f"quality check of {plan.dataset}"))
    bound = {k: v for k, v in params.items() if k in plan.params}
    return list(engine.run(plan.name, **bound).to_pylist())
