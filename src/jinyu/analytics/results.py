"""Answers of registered queries kept between requests, each tied to the files it was computed from.

A console page asks the same question many times (every analyst opening the same chain and window), and its
statements scan months of transfers: on the medium region the chain page's two transfer scans cost ~250 ms.
The answer can only change when the files of the datasets the query reads change (the lake adds files, and a
key rotation rewrites them: names, sizes and inodes are compared, as `serving` compares them), so an answer is
kept under (query, bound parameters, those files) and a new load makes the next request compute it afresh.
Listing the files costs a few milliseconds at most (`listing`). Only answers are cached: access checks and the
audit of each read stay with the caller, per request.

**Month-narrowed keys.** A query that reads a month-partitioned dataset only through `month BETWEEN a AND b`
(the chain page's transfer scans, loans by month) asked for one month depends on that month's files alone:
`key(..., month=(dataset, m))` keys it by the files of `dataset/month=m/` (and every file of its other
datasets), so a load of another month leaves it current. The caller vouches for the query's shape.

**Kept on disk too** (`store`, `shared_results`: `<lake>.results/` beside the lake). Each answer is also written
as an Arrow IPC file named by a digest of (query, parameters) and one of the files it was computed from (written
under a temporary name and renamed into place; the older files of the same question removed). So an answer
computed once — by the scheduler's warm-up in any worker, or by an earlier visitor — serves every worker and
survives a restart: a process that does not hold it in memory reads a few kilobytes instead of scanning months of
transfers. Arrow IPC keeps the schema and values exactly (decimals, strings, nulls), so an answer read back equals
the one computed. Each file carries a sha256 of its answer (schema metadata `jinyu.sha256`, over the answer's
Arrow IPC stream), checked on reading: a file whose values do not hash to it, or that has none, is removed and the
answer computed again. A file that cannot be read or written is ignored (the answer is then computed, as without
the store). `clear` empties both. Today only the chain page's answers and the stored networks' rankings go through
it (enterprises' USCCs, names, segments, sums and PageRanks; no pseudonymous tokens): a key rotation rewrites the
lake's files, so no kept answer matches them any more, but the files stay until their question is asked again — a
query whose answer carries tokens would need the store emptied by the rotation before it is kept here.

**Answers of one version of their input** (`stamped`): an answer derived from a versioned input the caller
names — a stored network build, named by its `built_at` (the lake is append-only: a rebuild is a new time) — is
keyed by that version instead of listed files, so it can be written before the version's files are in the lake
(the builder ranks a build before appending it). Its file is named by the question and the stamp (sortable
text: a later version sorts higher), and a write removes only the same question's files of *earlier* stamps,
so a slow writer of an older version never removes a newer one. Such answers may be kept on disk only
(`in_memory=False`) when the caller holds them in memory in its own form.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from jinyu.analytics.layout import PARTITION_COLUMN
from jinyu.analytics.listing import Files, lake_listing
from jinyu.analytics.registry import get_query

log = logging.getLogger(__name__)
Key = tuple[str, tuple[tuple[str, object], ...], tuple[tuple[str, Files], ...]]
STAMP = "@stamp"  # the pseudo-dataset of a `stamped` key: one entry, (stamp, 0, 0)


def stamped(name: str, params: dict[str, object], stamp: str) -> Key:
    """The key of answer `name` for `params` computed from the version `stamp` of its input (module doc): the
    caller vouches that the stamp names that input exactly. `stamp` is sortable, filename-safe text
    (letters, digits, `-`, `_`, `.`), later versions sorting higher."""
    if not stamp or not all(ch.isalnum() or ch in "-_." for ch in stamp):
        raise ValueError(f"stamp must be filename-safe: {stamp!r}")
    return name, tuple(sorted(params.items())), ((STAMP, ((stamp, 0, 0),)),)


def _stamp_of(key: Key) -> str | None:
    source = key[2]
    return source[0][1][0][0] if len(source) == 1 and source[0][0] == STAMP else None


def in_month(key: Key, params: dict[str, object], dataset: str, month: str) -> Key:
    """`key` (of the same query, any window) for `params` asked for `month` alone: `dataset`'s files narrowed
    to its `month` partition (see the module's doc: the query must read `dataset` only within its window)."""
    prefix = f"{dataset}/{PARTITION_COLUMN}={month}/"
    files = tuple(
        (d, tuple(f for f in fs if f[0].startswith(prefix)) if d == dataset else fs) for d, fs in key[2]
    )
    return key[0], tuple(sorted(params.items())), files


class ResultCache:
    """Least-recently-used answers, at most `max_entries` (the chain page's answers are kilobytes each; its two
    transfer scans are kept per month and chain, `jinyu.chain.reads.monthly`)."""

    def __init__(self, lake_root: Path, max_entries: int = 1024, store: Path | None = None) -> None:
        self.lake_root = Path(lake_root)
        self.max_entries = max_entries
        self.store = None if store is None else Path(store)  # answers on disk too (the module's doc)
        self._held: OrderedDict[Key, pa.Table] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, query_name: str, params: dict[str, object]) -> Key:
        # The lake's listing, read again only after a write has replaced the lake's change marker (one `stat`
        # otherwise: `listing.lake_listing`, as the tracing reads use it).
        datasets = sorted(get_query(query_name).datasets)
        listing = lake_listing(self.lake_root, datasets)
        return query_name, tuple(sorted(params.items())), tuple((d, listing[d]) for d in datasets)

    def get(self, key: Key, *, in_memory: bool = True) -> pa.Table | None:
        """The kept answer, from memory or disk; `in_memory=False`: from disk only, and not held after."""
        if in_memory:
            with self._lock:
                table = self._held.get(key)
                if table is not None:
                    self._held.move_to_end(key)
                    return table
        table = self._read(key)
        if table is not None and in_memory:
            self._hold(key, table)
        return table

    def put(self, key: Key, table: pa.Table, *, in_memory: bool = True) -> None:
        """Keep the answer on disk (with a store) and, unless `in_memory=False`, in memory."""
        if in_memory:
            self._hold(key, table)
        self._write(key, table)

    def held(self) -> list[Key]:
        """The keys held in memory, least recently used first."""
        with self._lock:
            return list(self._held)

    def discard(self, key: Key) -> None:
        """Forget one answer, in memory and on disk."""
        with self._lock:
            self._held.pop(key, None)
        if self.store is not None:
            self._file(key)[0].unlink(missing_ok=True)

    def clear(self, *, keep_store: bool = False) -> None:
        """Forget every answer, in memory and on disk (`keep_store`: in memory only, as a new process starts)."""
        with self._lock:
            self._held.clear()
        if self.store is not None and not keep_store:
            shutil.rmtree(self.store, ignore_errors=True)

    def _hold(self, key: Key, table: pa.Table) -> None:
        with self._lock:
            self._held[key] = table
            self._held.move_to_end(key)
            while len(self._held) > self.max_entries:
                self._held.popitem(last=False)

    def _file(self, key: Key) -> tuple[Path, str]:
        """The answer's file, and the name prefix every version of the same question shares."""
        assert self.store is not None
        question = hashlib.sha256(repr(key[:2]).encode()).hexdigest()[:32]
        stamp = _stamp_of(key)
        if stamp is not None:
            return self.store / key[0] / f"{question}-@{stamp}.arrow", f"{question}-@"
        files = hashlib.sha256(repr(key[2]).encode()).hexdigest()[:32]
        return self.store / key[0] / f"{question}-{files}.arrow", f"{question}-"

    def _read(self, key: Key) -> pa.Table | None:
        if self.store is None:
            return None
        path, _ = self._file(key)
        try:
            with pa.memory_map(str(path)) as source:
                table = _opened(ipc.open_file(source).read_all())
        except FileNotFoundError:
            return None
        except (OSError, pa.ArrowInvalid):
            log.warning("unreadable kept answer %s: computed again", path.name)
            return None
        if table is None:
            log.warning("kept answer %s fails its checksum: removed, computed again", path.name)
            path.unlink(missing_ok=True)
        return table

    def _write(self, key: Key, table: pa.Table) -> None:
        if self.store is None:
            return
        path, question = self._file(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            sealed = _sealed(table)
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, sealed.schema) as writer:
                writer.write_table(sealed)
            os.replace(tmp, path)
            # The same question on older files (names compared directly: a glob pattern per question compiled
            # a regular expression each time, ~1 ms apiece on the chain page's 36 answers of a first request).
            with os.scandir(path.parent) as entries:
                names = [e.name for e in entries if e.name.startswith(question) and e.name.endswith(".arrow")]
            for name in names:
                # A stamped answer removes only earlier stamps: a newer version's file stays.
                if name != path.name and (not question.endswith("@") or name < path.name):
                    (path.parent / name).unlink(missing_ok=True)
        except OSError:
            log.warning("could not keep answer %s on disk", path.name, exc_info=True)
            tmp.unlink(missing_ok=True)


_DIGEST = b"jinyu.sha256"  # schema metadata of a kept file: the answer's digest (below)


def _digest(table: pa.Table) -> bytes:
    """sha256 of the answer as an Arrow IPC stream (schema, its metadata, every value), hex."""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest().encode()


def _sealed(table: pa.Table) -> pa.Table:
    """The answer as written: its digest added to the schema's metadata, so a file whose bytes changed on
    disk (a torn write after a crash, a flipped bit) is found on reading instead of served as an answer."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), _DIGEST: _digest(table)})


def _opened(table: pa.Table) -> pa.Table | None:
    """The answer read back without its digest, or None when it has none (a file from before digests) or the
    values do not hash to it."""
    metadata = dict(table.schema.metadata or {})
    digest = metadata.pop(_DIGEST, None)
    if digest is None:
        return None
    answer = table.replace_schema_metadata(metadata or None)
    return answer if _digest(answer) == digest else None


_SHARED: dict[Path, ResultCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_results(lake_root: Path) -> ResultCache:
    """The process's cache for one lake (one per data dir, as the app has one engine per lake), kept on disk
    beside the lake (`<lake>.results/`), where every worker and the next process find it."""
    root = Path(lake_root).resolve()
    with _SHARED_LOCK:
        cache = _SHARED.get(root)
        if cache is None:
            cache = _SHARED[root] = ResultCache(root, store=store_dir(root))
        return cache


def store_dir(lake_root: Path) -> Path:
    """Where `shared_results` keeps answers on disk: beside the lake, never inside it (no dataset)."""
    root = Path(lake_root).resolve()
    return root.with_name(f"{root.name}.results")
