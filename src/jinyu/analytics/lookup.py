"""Small lake look-ups for ingestion rules that depend on rows already loaded (e.g. whose account is this).

Kept beside `Lake` rather than in it: one function, bound values only, no SQL text built from values.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from jinyu.analytics import duck
from jinyu.analytics.lake import Lake


def values_owned_by(
    lake: Lake, dataset: str, column: str, values: Iterable[str], owner_column: str, owners: Iterable[str]
) -> set[str]:
    """Which of `values` occur in `column` of `dataset` on a row whose `owner_column` is one of `owners`."""
    wanted = pa.table({"v": pa.array(sorted(set(values)), pa.string())})
    allowed = pa.table({"o": pa.array(sorted(set(owners)), pa.string())})
    files = lake.files(dataset)
    if wanted.num_rows == 0 or allowed.num_rows == 0 or not files:
        return set()
    names = set(pq.read_schema(files[0]).names)
    if column not in names or owner_column not in names:
        return set()
    scan = duck.scan_sql(lake.root, dataset)
    sql = (
        f"SELECT DISTINCT i.v FROM incoming AS i JOIN {scan} AS l ON i.v = l.{duck.quote_ident(column)} "
        f"WHERE l.{duck.quote_ident(owner_column)} IN (SELECT o FROM owners)"
    )
    con = duck.connect()
    try:
        con.register("incoming", wanted)
        con.register("owners", allowed)
        return {v for v in con.sql(sql).to_arrow_table().column(0).to_pylist() if v is not None}
    finally:
        con.close()
