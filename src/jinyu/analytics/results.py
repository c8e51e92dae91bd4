"""Answers of registered queries kept between requests, each tied to the files it was computed from.

A console page asks the same question many times (every analyst opening the same chain and window), and its
statements scan months of transfers: on the medium region the chain page's two transfer scans cost ~250 ms.
The answer can only change when the files of the datasets the query reads change (the lake adds files, and a
key rotation rewrites them: names, sizes and inodes are compared, as `serving` compares them), so an answer is
kept under (query, bound parameters, those files) and a new load makes the next request compute it afresh.
Listing the files costs a few milliseconds at most (`listing`). Only answers are cached: access checks and the
audit of each read stay with the caller, per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import pyarrow as pa

from jinyu.analytics.listing import Files, dataset_files
from jinyu.analytics.registry import get_query

Key = tuple[str, tuple[tuple[str, object], ...], tuple[tuple[str, Files], ...]]


class ResultCache:
    """Least-recently-used answers, at most `max_entries` (the chain page's answers are kilobytes each; its two
    transfer scans are kept per month and chain, `jinyu.chain.reads.monthly`)."""

    def __init__(self, lake_root: Path, max_entries: int = 1024) -> None:
        self.lake_root = Path(lake_root)
        self.max_entries = max_entries
        self._held: OrderedDict[Key, pa.Table] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, query_name: str, params: dict[str, object]) -> Key:
        datasets = sorted(get_query(query_name).datasets)
        files = tuple((d, dataset_files(self.lake_root, d)) for d in datasets)
        return query_name, tuple(sorted(params.items())), files

    def get(self, key: Key) -> pa.Table | None:
        with self._lock:
            table = self._held.get(key)
            if table is not None:
                self._held.move_to_end(key)
            return table

    def put(self, key: Key, table: pa.Table) -> None:
        with self._lock:
            self._held[key] = table
            self._held.move_to_end(key)
            while len(self._held) > self.max_entries:
                self._held.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


_SHARED: dict[Path, ResultCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_results(lake_root: Path) -> ResultCache:
    """The process's cache for one lake (one per data dir, as the app has one engine per lake)."""
    root = Path(lake_root).resolve()
    with _SHARED_LOCK:
        cache = _SHARED.get(root)
        if cache is None:
            cache = _SHARED[root] = ResultCache(root)
        return cache
