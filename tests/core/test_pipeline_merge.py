"""A write batch's Rows go out as one statement of CTEs with placeholders numbered on (no database needed)."""

from __future__ import annotations

from jinyu.core.pipeline import Rows, merged, values_sql


def _rows(key: str, rows: list[tuple[object, ...]]) -> Rows:
    return Rows(key, rows, lambda merged_rows, start: _insert(key, merged_rows, start))


def _insert(table: str, rows: list[tuple[object, ...]], start: int) -> tuple[str, list[object]]:
    sql = values_sql(f"INSERT INTO {table} (a, b)", 2, len(rows), start=start)
    return sql, [[v for row in rows for v in row]]


def test_values_sql_numbers_from_start() -> None:
    assert (
        values_sql("INSERT INTO t (a, b)", 2, 2, start=3) == "INSERT INTO t (a, b) VALUES ($4, $5), ($6, $7)"
    )


def test_runs_of_rows_become_one_statement_with_contiguous_placeholders() -> None:
    queued = [_rows("x", [(1, "p")]), _rows("y", [(2, "q")]), _rows("x", [(3, "r")])]
    (statement,) = merged(queued)
    sql, params = statement
    # x's two rows merged where x first stood, then y's row after them: $1..$4, then $5, $6
    assert (
        sql
        == "WITH w0 AS (INSERT INTO x (a, b) VALUES ($1, $2), ($3, $4)) INSERT INTO y (a, b) VALUES ($5, $6)"
    )
    assert params == [[1, "p", 3, "r", 2, "q"]]


def test_a_plain_statement_ends_a_run_and_keeps_its_place() -> None:
    plain = ("SELECT set_config('lock_timeout', %(value)s, true)", [{"value": "0"}])
    queued = [_rows("x", [(1, "p")]), plain, _rows("y", [(2, "q")])]
    assert merged(queued) == [
        ("INSERT INTO x (a, b) VALUES ($1, $2)", [[1, "p"]]),
        plain,
        ("INSERT INTO y (a, b) VALUES ($1, $2)", [[2, "q"]]),
    ]
