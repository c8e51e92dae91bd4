"""Where the lake keeps things: one directory per dataset, Hive-style `month=YYYY-MM` partitions.

    <root>/<dataset>/month=YYYY-MM/part-<load_id>.parquet    (partitioned datasets)
    <root>/<dataset>/part-<load_id>.parquet                  (unpartitioned datasets)

Both engines and the writer go through these helpers so that they agree on what a dataset's files are.

`<root>/_changed` is the lake's change marker: every write that adds, removes or replaces data files replaces
it once its files are in place or gone (`mark_changed`), so a reader that saw the marker unchanged since it
listed the lake knows the listing still holds (`listing.lake_listing`); a lake without one is listed each time.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from jinyu.core.errors import invalid

PARTITION_COLUMN = "month"
CHANGED_MARKER = "_changed"


def mark_changed(root: Path) -> None:
    """Replace the lake's change marker (a new file by rename: a new inode and time, whatever the clock's
    resolution); call it after every change to the data files, once the change is done."""
    if not root.is_dir():
        return
    temp = root / f".{CHANGED_MARKER}.{uuid.uuid4().hex}.tmp"
    temp.write_bytes(uuid.uuid4().bytes)
    os.replace(temp, root / CHANGED_MARKER)


# Dataset names become directory names and SQL view names, so they must be plain identifiers.
_DATASET_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Load ids become file names; no separators, no leading dot (Spark and DuckDB skip hidden files).
_LOAD_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_dataset(name: str) -> str:
    if not _DATASET_RE.match(name):
        raise invalid("dataset", f"数据集名须为小写标识符 / dataset must be a lowercase identifier: {name!r}")
    return name


def check_load_id(load_id: str) -> str:
    if not _LOAD_ID_RE.match(load_id):
        raise invalid(
            "load_id", f"批次号只能含字母数字和 _.- / load id must match [A-Za-z0-9_.-]+: {load_id!r}"
        )
    return load_id


def dataset_dir(root: Path, dataset: str) -> Path:
    return root / check_dataset(dataset)


def part_name(load_id: str) -> str:
    return f"part-{check_load_id(load_id)}.parquet"


def month_dir(root: Path, dataset: str, month: str) -> Path:
    return dataset_dir(root, dataset) / f"{PARTITION_COLUMN}={month}"


def data_files(root: Path, dataset: str) -> list[Path]:
    """The dataset's committed Parquet files, sorted; temporary files of a write in progress never match."""
    base = dataset_dir(root, dataset)
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*.parquet") if not p.name.startswith((".", "_")))


def is_partitioned(root: Path, dataset: str) -> bool:
    base = dataset_dir(root, dataset)
    return base.is_dir() and any(p.is_dir() for p in base.glob(f"{PARTITION_COLUMN}=*"))


def dataset_names(root: Path) -> list[str]:
    """Datasets that hold at least one file (a directory left empty by a failed write does not count)."""
    if not root.is_dir():
        return []
    names = (p.name for p in root.iterdir() if p.is_dir() and _DATASET_RE.match(p.name))
    return sorted(n for n in names if data_files(root, n))
