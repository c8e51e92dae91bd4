"""The lake: append-only Parquet datasets under one root, partitioned by month, sorted for the engines."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jinyu.analytics import duck, keys, layout
from jinyu.analytics.partition import month_of, sorted_table, split_by_month
from jinyu.analytics.pending import (
    SETTLE_WAIT_SECONDS,
    Committed,
    PendingLoad,
    Recovered,
    publish,
    recover,
    wait_for_settled,
)
from jinyu.core.errors import Conflict, invalid

# DuckDB's own row-group size: min/max statistics per group let both engines skip groups of a sorted file.
ROW_GROUP_ROWS = 122_880
_ROW = "__jinyu_row"

Planned = list[tuple[Path, pa.Table]]


class Lake:
    """Parquet datasets under `root`; files are only ever added, never rewritten or deleted."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- writing ---------------------------------------------------------------------------------------

    def append(
        self,
        dataset: str,
        table: pa.Table,
        load_id: str,
        *,
        partition_by: str | None,
        sort_by: Sequence[str],
        mirrors: Mapping[str, Sequence[str]] | None = None,
        staged: PendingLoad | None = None,
    ) -> list[Path]:
        """Write one load of `dataset` (and its mirrors: extra copies sorted differently) as new files.

        Refuses a load id that already has files in any of the targets, so a retried load cannot double
        the data. Every file is written under a temporary name and linked into place only once all of
        them are written; returns the new files. With `staged` (a load in flight), they are linked into place
        only when that load is settled as kept — readers see them only once their load record has committed.
        """
        layout.check_load_id(load_id)
        targets = {layout.check_dataset(dataset): tuple(sort_by)}
        for name, columns in (mirrors or {}).items():
            if layout.check_dataset(name) in targets:
                raise invalid("mirrors", f"镜像名与数据集重复 / mirror repeats a dataset name: {name!r}")
            targets[name] = tuple(columns)
        table = _normalised(table)
        months = self._months(table, partition_by)
        for name, columns in targets.items():
            _require_columns(table, columns, "sort_by")
            self._check_compatible(name, table.schema, partitioned=months is not None)
            self._check_new_load(name, load_id)
        if table.num_rows == 0:
            return []
        planned: Planned = []
        for name, columns in targets.items():
            planned.extend(self._plan(name, table, months, columns, load_id))
        if staged is not None:
            staged.stage(_write_temps(planned))
            return [final for final, _ in planned]
        try:
            return _commit(planned)
        finally:
            layout.mark_changed(self.root)

    def _months(self, table: pa.Table, partition_by: str | None) -> pa.Array | None:
        if partition_by is None:
            return None
        if layout.PARTITION_COLUMN in table.column_names:
            # The engines add the partition directory as a `month` column; a real one would clash.
            raise invalid(
                "table", "分区数据集不能有 month 列 / a partitioned dataset cannot have a 'month' column"
            )
        return month_of(table, partition_by)

    def _plan(
        self, name: str, table: pa.Table, months: pa.Array | None, sort_by: Sequence[str], load_id: str
    ) -> Planned:
        file_name = layout.part_name(load_id)
        if months is None:
            return [(layout.dataset_dir(self.root, name) / file_name, sorted_table(table, sort_by))]
        return [
            (layout.month_dir(self.root, name, month) / file_name, part)
            for month, part in split_by_month(table, months, sort_by)
        ]

    def _check_compatible(self, name: str, schema: pa.Schema, *, partitioned: bool) -> None:
        files = layout.data_files(self.root, name)
        if not files:
            return
        stored = layout.is_partitioned(self.root, name)
        if stored != partitioned:
            how = "按月分区 / partitioned by month" if stored else "不分区 / unpartitioned"
            raise invalid("partition_by", f"数据集 {name} 已有文件的分区方式不同 / {name!r} is stored {how}")
        if not _same_columns(pq.read_schema(files[0]), schema):
            raise invalid(
                "table", f"表结构与 {name} 已有的文件不一致 / schema differs from {name!r} in the lake"
            )

    def _check_new_load(self, name: str, load_id: str) -> None:
        file_name = layout.part_name(load_id)
        if any(p.name == file_name for p in layout.data_files(self.root, name)):
            raise Conflict(detail=f"批次 {load_id} 已写入 {name} / load {load_id!r} already in {name!r}")

    def discard_load(self, dataset: str, load_id: str) -> list[Path]:
        """Remove the files one load wrote to a dataset, for a load whose record was never committed.

        The lake never rewrites history; this only undoes a load the operational store does not know, so a
        retried ingestion can write again under the same (content-derived) load id."""
        layout.check_dataset(dataset)
        file_name = layout.part_name(layout.check_load_id(load_id))
        stale = [p for p in layout.data_files(self.root, dataset) if p.name == file_name]
        try:
            _remove(stale)
        finally:
            if stale:
                layout.mark_changed(self.root)
        return stale

    def begin_load(self, load_id: str, datasets: Sequence[str]) -> PendingLoad:
        """Declare a load in flight; its files stay only if it is settled with `keep` (see pending.py)."""
        return PendingLoad(self.root, load_id, datasets)

    def wait_for_settled(self, datasets: Sequence[str] | None, timeout: float = SETTLE_WAIT_SECONDS) -> None:
        """Wait until no other process's load of these datasets (None: any) is still publishing (pending.py)."""
        wait_for_settled(self.root, datasets, timeout)

    def recover(self, committed: Committed) -> Recovered:
        """Settle loads whose writer died, and remove temporary files no live load owns (see pending.py)."""
        return recover(self.root, committed)

    # -- reading ---------------------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        return layout.dataset_names(self.root)

    def files(self, dataset: str) -> list[Path]:
        return layout.data_files(self.root, dataset)

    def keyed_columns(self, dataset: str) -> set[str]:
        """The columns the dataset's files carry a hashed key of (`<column>__key`, `keys.py`); none when it has
        no files. Every file of a dataset has the same columns (`append` refuses a differing schema)."""
        files = self.files(dataset)
        if not files:
            return set()
        names = pq.read_schema(files[0]).names
        return {n.removesuffix(keys.KEY_SUFFIX) for n in names if n.endswith(keys.KEY_SUFFIX)}

    def takes_keys(self, dataset: str, columns: Sequence[str]) -> bool:
        """Can a load of `dataset` carry hashed keys of `columns`: the dataset is new, or its files have them
        (a lake written before keys existed keeps its schema, and its checks compare the text)."""
        return bool(columns) and (not self.files(dataset) or self.keyed_columns(dataset) >= set(columns))

    def row_count(self, dataset: str) -> int:
        """Rows in the dataset, from the Parquet footers alone (no data is read); 0 when it has no files."""
        return sum(pq.read_metadata(f).num_rows for f in self.files(dataset))

    def existing_keys_mask(self, dataset: str, key_cols: Sequence[str], table: pa.Table) -> pa.BooleanArray:
        """For each row of `table`: is its key (all `key_cols`) already in the dataset? Nulls compare equal
        (an optional key column, e.g. the registry's empty `related_parties.bank_code`).

        One DuckDB semi-join of the incoming keys (an Arrow view, no copy) against the dataset's key columns
        (only those are read from Parquet), so it scales to millions of rows on either side.
        """
        _require_columns(table, key_cols, "key_cols")
        if not key_cols:
            raise invalid("key_cols", "至少需要一个键列 / at least one key column is needed")
        rows = _row_numbers(table.num_rows)
        if table.num_rows == 0 or not self.files(dataset):
            return pa.repeat(False, table.num_rows)
        self._require_lake_columns(dataset, key_cols, "key_cols")
        incoming = table.select(list(key_cols)).append_column(_ROW, rows)
        on = " AND ".join(
            f"i.{duck.quote_ident(c)} IS NOT DISTINCT FROM l.{duck.quote_ident(c)}" for c in key_cols
        )
        sql = f"SELECT i.{_ROW} FROM incoming AS i SEMI JOIN {duck.scan_sql(self.root, dataset)} AS l ON {on}"
        hits = self._query(sql, incoming).column(0)
        return pc.is_in(rows, value_set=hits.combine_chunks().cast(pa.int64()))

    def existing_values(self, dataset: str, column: str, values: Iterable[str]) -> set[str]:
        """Which of `values` occur in `column` of the dataset (e.g. that referenced accounts exist)."""
        wanted = pa.table({"v": pa.array(sorted(set(values)), pa.string())})
        if wanted.num_rows == 0 or not self.files(dataset):
            return set()
        self._require_lake_columns(dataset, [column], "column")
        col = duck.quote_ident(column)
        scan = duck.scan_sql(self.root, dataset)
        sql = f"SELECT i.v FROM incoming AS i SEMI JOIN {scan} AS l ON i.v = l.{col}"
        return {v for v in self._query(sql, wanted).column(0).to_pylist() if v is not None}

    def _query(self, sql: str, incoming: pa.Table) -> pa.Table:
        con = duck.connect()
        try:
            con.register("incoming", incoming)
            return con.sql(sql).to_arrow_table()
        finally:
            con.close()

    def _require_lake_columns(self, dataset: str, columns: Sequence[str], field: str) -> None:
        names = set(pq.read_schema(self.files(dataset)[0]).names)
        if layout.is_partitioned(self.root, dataset):
            names.add(layout.PARTITION_COLUMN)
        missing = [c for c in columns if c not in names]
        if missing:
            raise invalid(field, f"{dataset} 中没有这些列 / dataset {dataset!r} has no column(s): {missing}")


def _require_columns(table: pa.Table, columns: Sequence[str], field: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise invalid(field, f"表中没有这些列 / table has no column(s): {missing}")


def _row_numbers(n: int) -> pa.Array:
    # 0..n-1 without a Python-level loop: a running sum over a run of ones.
    if n == 0:
        return pa.array([], pa.int64())
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)


def _normalised(table: pa.Table) -> pa.Table:
    """Timestamps at microseconds: Spark 3.5 cannot read nanosecond Parquet timestamps.

    The cast is safe: a value with sub-microsecond digits is refused rather than silently truncated.
    """
    fields = [_microseconds(f) for f in table.schema]
    target = pa.schema(fields, metadata=table.schema.metadata)
    if target.equals(table.schema):
        return table
    try:
        return table.cast(target, safe=True)
    except pa.ArrowInvalid as exc:
        raise invalid("table", f"时间戳精度超过微秒 / timestamps finer than microseconds: {exc}") from None


def _microseconds(f: pa.Field) -> pa.Field:
    if pa.types.is_timestamp(f.type) and f.type.unit == "ns":
        return f.with_type(pa.timestamp("us", tz=f.type.tz))
    return f


def _same_columns(existing: pa.Schema, incoming: pa.Schema) -> bool:
    """Same names and types in the same order; nullability and metadata do not matter for reading."""
    return [(f.name, f.type) for f in existing] == [(f.name, f.type) for f in incoming]


def _commit(planned: Planned) -> list[Path]:
    """Write every file under a hidden temporary name, then link each into place (`publish`)."""
    pairs = _write_temps(planned)
    try:
        return publish(pairs)
    except BaseException:
        _remove(temp for _, temp in pairs)
        raise


def _write_temps(planned: Planned) -> list[tuple[Path, Path]]:
    """Every file under a hidden temporary name (readers' globs do not match it): (final, temp) pairs. On a
    failure the temporary files written so far are removed."""
    pairs: list[tuple[Path, Path]] = []
    try:
        for final, part in planned:
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
            pairs.append((final, temp))
            _write(temp, part)
    except BaseException:
        _remove(temp for _, temp in pairs)
        raise
    return pairs


def _write(path: Path, part: pa.Table) -> None:
    with open(path, "wb") as fh:
        pq.write_table(part, fh, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        fh.flush()
        os.fsync(fh.fileno())


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync_dir(directory: Path) -> None:
    # The new directory entries must survive a crash too, not only the file contents.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
