"""The Spark SQL that sqlglot makes of every registered query, pinned in golden files.

A sqlglot upgrade (or an edited query) that changes a translation fails here with the diff; after reading
the diff, regenerate with:

    JINYU_UPDATE_GOLDEN=1 .venv/bin/pytest tests/analytics/test_golden.py

and commit the changed files under tests/analytics/golden/ together with the change that caused them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from jinyu.analytics import get_query, spark_sql

from .discover import discover_queries

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("JINYU_UPDATE_GOLDEN") == "1"
NAMES = [q.name for q in discover_queries()]
REGENERATE = "regenerate with JINYU_UPDATE_GOLDEN=1 .venv/bin/pytest tests/analytics/test_golden.py"


def _golden(name: str) -> Path:
    return GOLDEN / f"{name}.spark.sql"


@pytest.mark.parametrize("name", NAMES)
def test_spark_translation_matches_golden(name: str) -> None:
    current = spark_sql(get_query(name)) + "\n"
    path = _golden(name)
    if UPDATE:
        path.write_text(current, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}; {REGENERATE}"
    expected = path.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "golden", "now"))
    assert expected == current, f"Spark translation of {name} changed; {REGENERATE}\n{diff}"


def test_no_golden_file_without_a_query() -> None:
    stale = sorted(p for p in GOLDEN.glob("*.spark.sql") if p.name.removesuffix(".spark.sql") not in NAMES)
    if UPDATE:
        for path in stale:
            path.unlink()
        return
    assert stale == [], (
        f"golden files of queries that no longer exist: {[p.name for p in stale]}; {REGENERATE}"
    )
