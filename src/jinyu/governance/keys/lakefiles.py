"""Re-tokenizing the lake's token columns: each file rewritten beside itself, then swapped in by rename.

Two phases so that a crash never leaves a half-written file visible and readers see the old version until
the (short) swap: *stage* writes every file that still holds older tokens to a hidden temporary name next to
it (`.rot-v<n>.<name>.tmp`, which neither readers' globs nor the load recovery match) and notes it in a
journal; *swap* renames each staged file over its original (atomic per file) and fsyncs the directory. Both
are idempotent: a token already at the target version is left as it is, a staged file whose original has not
changed since is kept, a staged file already swapped is gone. So a re-run after a crash completes the work.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jinyu.analytics import layout
from jinyu.core.privacy import advance, token_version
from jinyu.core.pseudokeys import Keyring
from jinyu.governance.contracts import CONTRACTS, Protect

ROW_GROUP_ROWS = 122_880  # as the lake writes them, so both engines keep skipping row groups


@dataclass(frozen=True)
class FileWork:
    path: Path
    dataset: str
    columns: tuple[str, ...]
    rows: int
    size: int


def token_columns() -> dict[str, tuple[str, ...]]:
    """Every dataset's columns the ingest tokenizes (the contracts say which)."""
    out = {}
    for name, contract in CONTRACTS.items():
        cols = tuple(c.name for c in contract.columns if c.protect == Protect.TOKEN)
        if cols:
            out[name] = cols
    return out


def files_to_rewrite(root: Path, target: int) -> list[FileWork]:
    """Files holding at least one token older than `target` (reads the token columns only)."""
    work = []
    for dataset, columns in token_columns().items():
        for path in layout.data_files(root, dataset):
            meta = pq.ParquetFile(path)
            present = tuple(c for c in columns if c in meta.schema_arrow.names)
            if present and _has_older(meta.read(columns=list(present)), target):
                work.append(FileWork(path, dataset, present, meta.metadata.num_rows, path.stat().st_size))
    return work


def _has_older(table: pa.Table, target: int) -> bool:
    for column in table.columns:
        for value in pc.unique(column.combine_chunks()).to_pylist():
            version = token_version(value) if isinstance(value, str) else None
            if version is not None and version < target:
                return True
    return False


def rewrite_table(
    table: pa.Table, columns: tuple[str, ...], ring: Keyring, target: int, sort_by: tuple[str, ...] = ()
) -> pa.Table:
    """The table with every token of `columns` carried to `target`; one HMAC chain per distinct token."""
    for name in columns:
        index = table.schema.get_field_index(name)
        column = table[name].combine_chunks()
        distinct = pc.unique(column)
        moved = pa.array(
            [advance(ring, v, target) if v is not None else None for v in distinct.to_pylist()], pa.string()
        )
        positions = pc.index_in(column, value_set=distinct)
        table = table.set_column(index, table.schema.field(index), pc.take(moved, positions))
    if set(sort_by) & set(columns):  # sorted by a token: keep the min/max statistics useful
        table = table.sort_by([(c, "ascending") for c in sort_by])
    return table


def staged_path(path: Path, target: int) -> Path:
    return path.with_name(f".rot-v{target}.{path.name}.tmp")


class Journal:
    """What the stage phase finished: original file -> its (size, inode) when the staged copy was made."""

    def __init__(self, path: Path, target: int) -> None:
        self.path, self.target = path, target
        self.entries: dict[str, list[int]] = json.loads(path.read_text()) if path.exists() else {}

    def staged(self, work: FileWork) -> bool:
        """A complete staged copy of the file as it is now exists (a crash may have cut the last one short)."""
        st = work.path.stat()
        fresh = self.entries.get(str(work.path)) == [st.st_size, st.st_ino]
        return fresh and staged_path(work.path, self.target).exists()

    def note(self, work: FileWork) -> None:
        st = work.path.stat()
        self.entries[str(work.path)] = [st.st_size, st.st_ino]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.entries))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def stage(work: FileWork, ring: Keyring, target: int) -> Path:
    """The rewritten copy of one file under its hidden staged name, written and fsynced."""
    table = pq.read_table(work.path)
    out = rewrite_table(table, work.columns, ring, target, CONTRACTS[work.dataset].sort_by)
    temp = staged_path(work.path, target)
    with open(temp, "wb") as fh:
        pq.write_table(out, fh, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        fh.flush()
        os.fsync(fh.fileno())
    return temp


def staged_files(root: Path, target: int) -> Iterator[tuple[Path, Path]]:
    """(staged, original) pairs still waiting for their swap."""
    for dataset in token_columns():
        base = layout.dataset_dir(root, dataset)
        if base.is_dir():
            for temp in sorted(base.rglob(f".rot-v{target}.*.tmp")):
                yield temp, temp.with_name(temp.name.removeprefix(f".rot-v{target}.").removesuffix(".tmp"))


def swap(root: Path, target: int) -> int:
    """Rename every staged file over its original; returns how many were swapped."""
    count, dirs = 0, set()
    for temp, original in staged_files(root, target):
        os.replace(temp, original)
        dirs.add(original.parent)
        count += 1
    for directory in dirs:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    if count:
        layout.mark_changed(root)  # readers' cached listings (inodes changed) are listed afresh
    return count


def discard_staged(root: Path, target: int) -> None:
    for temp, _ in staged_files(root, target):
        temp.unlink()
