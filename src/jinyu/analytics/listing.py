"""A dataset's files with their sizes, listed with `os.scandir`: what `layout.data_files` lists, in its order.

Serving checks the lake's files on every request (the data version a result states, whether an in-memory
copy is still current); `pathlib`'s rglob costs about a quarter of a millisecond per dataset, this a tenth
of it.

A directory whose modification time has not changed since it was read is not read again (its subdirectories
still are: a change below does not touch it): a request lists ~150 month directories and stats ~150 files,
where one `stat` per directory now answers. Adding, removing or renaming an entry (every lake write lands a
file by renaming it into place; `jinyu keys rotate` replaces files the same way) changes the directory's time.
Timestamps are coarse (a clock tick), so a directory changed within `_SETTLE_NS` of being read is read again
next time, as git treats a "racily clean" index entry.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from jinyu.analytics import layout

# (path relative to the lake root, POSIX; size in bytes; inode). The inode tells a file rewritten in place
# (`jinyu keys rotate` replaces files under the same name, possibly the same size) from the one copied.
Files = tuple[tuple[str, int, int], ...]


def dataset_files(root: Path, dataset: str) -> Files:
    """The dataset's committed Parquet files (as `layout.data_files`: hidden and temporary ones skipped),
    relative to the root, sorted as `layout.data_files` sorts them, with their sizes."""
    base = layout.dataset_dir(root, dataset)
    found: list[tuple[str, int, int]] = []
    _walk(str(base), dataset, found)
    # Paths compare part by part, as PurePosixPath orders them (not as plain strings: "-" sorts before "/").
    found.sort(key=lambda f: f[0].split("/"))
    return tuple(found)


def lake_listing(root: Path, datasets: Sequence[str]) -> Mapping[str, Files]:
    """`dataset_files` of each dataset, as one read-only mapping; the same one again, with one `stat`, while
    the lake's change marker (`layout.mark_changed`) is the one seen when it was listed.

    Every write of data files replaces the marker once its files are in place (or gone), so a marker
    unchanged since the listing began means no write has finished since; a write finishing meanwhile
    replaces it and the next call lists afresh. A marker replaced within `_SETTLE_NS` of now is not trusted
    (coarse timestamps, as for directories below); a lake without a marker is listed every time."""
    names = tuple(datasets)
    try:
        st = os.stat(f"{root}/{layout.CHANGED_MARKER}")
    except (FileNotFoundError, NotADirectoryError):
        return MappingProxyType({d: dataset_files(root, d) for d in names})
    stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
    key = (str(root), names)
    cached = _LISTINGS.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    listing = MappingProxyType({d: dataset_files(root, d) for d in names})
    if time.time_ns() - st.st_mtime_ns > _SETTLE_NS:
        with _LISTINGS_LOCK:
            if len(_LISTINGS) >= 64:  # many lakes in one process (tests): start again
                _LISTINGS.clear()
            _LISTINGS[key] = (stamp, listing)
    return listing


# (lake root, datasets) -> (the change marker's (mtime ns, inode, size) when listed, the listing)
_LISTINGS: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, int, int], Mapping[str, Files]]] = {}
_LISTINGS_LOCK = threading.Lock()
_SETTLE_NS = 2_000_000_000
_MAX_CACHED = 200_000  # directories; beyond it (many lakes in one process, e.g. tests) start again
# directory path -> ((its mtime ns, inode), its subdirectories' names, its data files as (name, size, inode))
_READ: dict[str, tuple[tuple[int, int], tuple[str, ...], tuple[tuple[str, int, int], ...]]] = {}


def _walk(directory: str, rel: str, found: list[tuple[str, int, int]]) -> None:
    # Plain strings, not pathlib: a request lists ~150 files and pathlib's parsing was most of the cost.
    try:
        st = os.stat(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    stamp = (st.st_mtime_ns, st.st_ino)
    cached = _READ.get(directory)
    if cached is not None and cached[0] == stamp:
        subdirs, files = cached[1], cached[2]
    else:
        read = _read_dir(directory)
        if read is None:
            return
        subdirs, files = read
        if time.time_ns() - st.st_mtime_ns > _SETTLE_NS:
            if len(_READ) >= _MAX_CACHED:
                _READ.clear()
            _READ[directory] = (stamp, subdirs, files)
    for name in subdirs:
        _walk(f"{directory}/{name}", f"{rel}/{name}", found)
    found.extend((f"{rel}/{name}", size, ino) for name, size, ino in files)


def _read_dir(directory: str) -> tuple[tuple[str, ...], tuple[tuple[str, int, int], ...]] | None:
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return None
    subdirs: list[str] = []
    files: list[tuple[str, int, int]] = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            subdirs.append(entry.name)
        elif entry.name.endswith(".parquet") and not entry.name.startswith((".", "_")):
            st = entry.stat()
            files.append((entry.name, st.st_size, st.st_ino))
    return tuple(subdirs), tuple(files)
