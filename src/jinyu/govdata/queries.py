"""Named analytics queries the govdata domain runs (registered in jinyu.analytics)."""

from __future__ import annotations

from typing import Any

from jinyu.analytics import Engine


def gov_summary(engine: Engine, uscc: str, as_of_month: str) -> dict[str, Any]:
    rows = engine.run("enterprise_gov_summary", uscc=uscc, as_of_month=as_of_month).to_pylist()
    return dict(rows[0])
