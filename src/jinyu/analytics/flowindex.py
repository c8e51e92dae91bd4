"""A resident transfer index: every transfer of the lake held in memory as numpy arrays, for hop lookups.

Per-request tracing reads, for each account of a frontier, its outgoing transfers in a time window and the sum
of its incoming ones. Over the Parquet lake each hop is one DuckDB statement with a fixed cost of tens of
milliseconds; this index answers the same lookups with a few vectorised numpy steps over the whole frontier.

Layout (compressed sparse rows; accounts get dense indices in account_no order, so an index order is the
account_no order the SQL sorts by):

    accounts      sorted account numbers (UTF-8 bytes), index -> account_no
    out_offsets   int64[n + 1]: account i's outgoing transfers are rows out_offsets[i]:out_offsets[i + 1]
    out_dst       int32 receiving account index      \
    out_ts        int64 µs since the epoch (UTC)       }  sorted by (src, ts, txn_id)
    out_amount    int64 fen                           /
    out_prefix    int64[m + 1] running sum of out_amount (wraps on overflow: differences stay exact)
    in_offsets, in_ts, in_prefix   the same for incoming transfers, sorted by (dst, ts)

`window` finds each node's rows in a time window by bisection over its own rows, all nodes at once (about
log2 of the largest degree numpy steps, not a Python loop per node).

`FlowIndexes` keeps one index per process for one (lake root, data version): mapped from the files an earlier
build kept beside the lake (`flowfiles`) when there are some for this version, else built in a background
thread on first demand (and then kept as files for the next process); replaced when the version changes; `get`
never waits for a build (callers use the lake's SQL meanwhile).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import numpy.typing as npt

from jinyu.analytics import builds, duck, flowfiles, layout
from jinyu.analytics.listing import Files, dataset_files

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
DATASET = "transfers"


@dataclass(frozen=True)
class FlowIndex:
    accounts: npt.NDArray[np.bytes_]
    out_offsets: I64
    out_dst: npt.NDArray[np.int32]
    out_ts: I64
    out_amount: I64
    out_prefix: I64
    in_offsets: I64
    in_ts: I64
    in_prefix: I64
    build_seconds: float = 0.0

    @classmethod
    def mapped(cls, arrays: dict[str, np.ndarray]) -> FlowIndex:
        """An index over arrays read back from files (`flowfiles`), refused when they do not fit together."""
        a = arrays
        index = cls(
            accounts=a["accounts"],
            out_offsets=a["out_offsets"],
            out_dst=a["out_dst"],
            out_ts=a["out_ts"],
            out_amount=a["out_amount"],
            out_prefix=a["out_prefix"],
            in_offsets=a["in_offsets"],
            in_ts=a["in_ts"],
            in_prefix=a["in_prefix"],
        )
        n, m = index.accounts.shape[0], index.out_ts.shape[0]
        lengths = (
            (index.out_offsets, n + 1),
            (index.in_offsets, n + 1),
            (index.out_dst, m),
            (index.out_amount, m),
            (index.out_prefix, m + 1),
            (index.in_ts, m),
            (index.in_prefix, m + 1),
        )
        if any(a.shape != (want,) for a, want in lengths) or (n and int(index.out_offsets[-1]) != m):
            raise ValueError("flow index arrays of different lengths")
        return index

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by field name (what `flowfiles` keeps)."""
        return {name: getattr(self, name) for name in ARRAYS}

    @property
    def transfers(self) -> int:
        return int(self.out_ts.shape[0])

    @property
    def nbytes(self) -> int:
        arrays: tuple[np.ndarray, ...] = (self.accounts, self.out_offsets, self.out_dst, self.out_ts)
        arrays += (self.out_amount, self.out_prefix, self.in_offsets, self.in_ts, self.in_prefix)
        return int(sum(a.nbytes for a in arrays))

    def lookup(self, accounts: list[str]) -> I64:
        """Dense index of each account, -1 for an account without transfers."""
        if not accounts or self.accounts.shape[0] == 0:
            return np.full(len(accounts), -1, dtype=np.int64)
        wanted = np.array([a.encode() for a in accounts], dtype=self.accounts.dtype)
        pos = np.searchsorted(self.accounts, wanted).astype(np.int64)
        clipped = np.minimum(pos, self.accounts.shape[0] - 1)
        found = (pos < self.accounts.shape[0]) & (self.accounts[clipped] == wanted)
        # A stored value longer than the dtype would be truncated on the way in: never a match.
        found &= np.array([len(a.encode()) <= self.accounts.dtype.itemsize for a in accounts], dtype=bool)
        return np.where(found, pos, -1)

    def names(self, indices: I64) -> list[str]:
        return [b.decode() for b in self.accounts[indices].tolist()]

    def out_window(self, nodes: I64, after: I64, until: I64) -> tuple[I64, I64]:
        """Rows [lo, hi) of each node's outgoing transfers with after < ts <= until (nodes >= 0)."""
        start, end = self.out_offsets[nodes], self.out_offsets[nodes + 1]
        lo = _bisect(self.out_ts, start, end, after, right=True)
        hi = _bisect(self.out_ts, lo, end, until, right=True)
        return lo, hi

    def inflow(self, nodes: I64, since: I64, until: I64) -> I64:
        """Sum of each node's incoming amounts with since <= ts <= until (nodes >= 0)."""
        start, end = self.in_offsets[nodes], self.in_offsets[nodes + 1]
        lo = _bisect(self.in_ts, start, end, since, right=False)
        hi = _bisect(self.in_ts, lo, end, until, right=True)
        out: I64 = self.in_prefix[hi] - self.in_prefix[lo]
        return out

    def out_before(self, nodes: I64, since: I64, before: I64) -> I64:
        """Sum of each node's outgoing amounts with since <= ts < before (nodes >= 0)."""
        return _sum_between(self.out_ts, self.out_prefix, self.out_offsets, nodes, since, before)

    def in_before(self, nodes: I64, since: I64, before: I64) -> I64:
        """Sum of each node's incoming amounts with since <= ts < before (nodes >= 0)."""
        return _sum_between(self.in_ts, self.in_prefix, self.in_offsets, nodes, since, before)


ARRAYS = (
    "accounts",
    "out_offsets",
    "out_dst",
    "out_ts",
    "out_amount",
    "out_prefix",
    "in_offsets",
    "in_ts",
    "in_prefix",
)


def _sum_between(ts: I64, prefix: I64, offsets: I64, nodes: I64, since: I64, before: I64) -> I64:
    start, end = offsets[nodes], offsets[nodes + 1]
    lo = _bisect(ts, start, end, since, right=False)
    hi = _bisect(ts, lo, end, before, right=False)
    out: I64 = prefix[hi] - prefix[lo]
    return out


# Up to this many rows, `_bisect` calls searchsorted per row: a one-loan hop's frontier is a few dozen
# accounts, and the vectorised search's ~20 rounds of ten numpy calls cost more than one call per row.
_PER_ROW = 64


def _bisect(values: I64, lo: I64, hi: I64, x: I64, *, right: bool) -> I64:
    """Per row, the first position p in [lo, hi) with values[p] > x (right) or >= x (left), else hi:
    numpy's searchsorted on each row's own sorted slice, for all rows at once."""
    if values.shape[0] == 0:
        return lo.copy()
    if lo.shape[0] <= _PER_ROW:
        return _bisect_rows(values, lo, hi, x, "right" if right else "left")
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        probe = values[np.where(active, mid, 0)]
        below = (probe <= x) if right else (probe < x)
        go_up = active & below
        lo = np.where(go_up, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)


def _bisect_rows(values: I64, lo: I64, hi: I64, x: I64, side: Literal["left", "right"]) -> I64:
    """`_bisect` for a few rows: one searchsorted on each row's slice."""
    starts, ends = lo.tolist(), hi.tolist()
    bounds = np.broadcast_to(x, lo.shape).tolist()
    found = [
        s + int(np.searchsorted(values[s:e], b, side=side))
        for s, e, b in zip(starts, ends, bounds, strict=True)
    ]
    return np.array(found, dtype=lo.dtype)


# Dense account indices in account_no order, then every transfer as (src, dst, µs, fen), twice sorted.
_ACCOUNTS = """
CREATE TEMP TABLE acc AS
SELECT a AS account_no, CAST(row_number() OVER (ORDER BY a) - 1 AS INTEGER) AS i
FROM (SELECT from_account AS a FROM t UNION SELECT to_account FROM t)
"""
_EDGES = """
CREATE TEMP TABLE e AS
SELECT s.i AS src, d.i AS dst, epoch_us(t.ts) AS ts, CAST(t.amount * 100 AS BIGINT) AS amt, t.txn_id
FROM t JOIN acc AS s ON s.account_no = t.from_account JOIN acc AS d ON d.account_no = t.to_account
"""


def build(lake_root: Path, *, memory_limit: str = "1GB", cancel: builds.Build | None = None) -> FlowIndex:
    """Read every transfer of the lake once and lay it out (see the module docstring).

    DuckDB sorts (spilling to a temporary directory past `memory_limit`) and the sorted rows stream into
    preallocated arrays, so the build's peak is the index plus DuckDB's limit, not several copies of it.
    `cancel`: the background build this runs in; cancelling it interrupts the statement running."""
    started = time.perf_counter()
    con = duck.connect()
    if cancel is not None:
        cancel.attach(con)
    with tempfile.TemporaryDirectory(prefix="jinyu-flowindex-") as spill:
        try:
            con.execute(f"SET memory_limit = {duck.quote_literal(memory_limit)}")
            con.execute(f"SET temp_directory = {duck.quote_literal(spill)}")
            con.execute("SET preserve_insertion_order = false")
            files = layout.data_files(lake_root, DATASET)
            source = (
                f"SELECT txn_id, ts, from_account, to_account, amount FROM {duck.scan_sql(lake_root, DATASET)}"
                if files
                else "SELECT NULL::VARCHAR AS txn_id, NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS from_account, "
                "NULL::VARCHAR AS to_account, NULL::DECIMAL(18, 2) AS amount WHERE false"
            )
            con.execute(f"CREATE TEMP VIEW t AS {source}")
            _check(cancel)
            con.execute(_ACCOUNTS)
            _check(cancel)
            names = con.sql("SELECT account_no FROM acc ORDER BY i").fetchnumpy()["account_no"]
            accounts = np.array([str(n).encode() for n in names], dtype=np.bytes_)
            del names
            _check(cancel)
            con.execute(_EDGES)
            _check(cancel)
            con.execute("DROP TABLE acc")
            m = int(con.sql("SELECT count(*) FROM e").fetchall()[0][0])
            out_src = np.empty(m, dtype=np.int32)
            out_dst = np.empty(m, dtype=np.int32)
            out_ts = np.empty(m, dtype=np.int64)
            out_amount = np.empty(m, dtype=np.int64)
            _stream(
                con,
                "SELECT src, dst, ts, amt FROM e ORDER BY src, ts, txn_id",
                out_src,
                out_dst,
                out_ts,
                out_amount,
                cancel=cancel,
            )
            _check(cancel)
            in_dst = np.empty(m, dtype=np.int32)
            in_ts = np.empty(m, dtype=np.int64)
            in_amount = np.empty(m, dtype=np.int64)
            _stream(
                con, "SELECT dst, ts, amt FROM e ORDER BY dst, ts", in_dst, in_ts, in_amount, cancel=cancel
            )
            _check(cancel)
        finally:
            if cancel is not None:
                cancel.detach(con)
            con.close()
    n = accounts.shape[0]
    out_offsets = _offsets(out_src, n)
    del out_src
    in_offsets = _offsets(in_dst, n)
    del in_dst
    in_prefix = _prefix(in_amount)
    del in_amount
    return FlowIndex(
        accounts=accounts,
        out_offsets=out_offsets,
        out_dst=out_dst,
        out_ts=out_ts,
        out_amount=out_amount,
        out_prefix=_prefix(out_amount),
        in_offsets=in_offsets,
        in_ts=in_ts,
        in_prefix=in_prefix,
        build_seconds=round(time.perf_counter() - started, 2),
    )


def _check(cancel: builds.Build | None) -> None:
    """Between statements: an interrupt only stops the statement running, so a cancelled build stops here."""
    if cancel is not None:
        cancel.check()


def _stream(
    con: duckdb.DuckDBPyConnection, sql: str, *into: np.ndarray, cancel: builds.Build | None = None
) -> None:
    """The query's rows, batch by batch, into the preallocated columns `into` (in select order)."""
    reader = con.sql(sql).to_arrow_reader(1 << 20)
    at = 0
    for batch in reader:
        _check(cancel)
        size = batch.num_rows
        for column, target in zip(batch.columns, into, strict=True):
            target[at : at + size] = column.to_numpy(zero_copy_only=False)
        at += size
    if at != into[0].shape[0]:
        raise RuntimeError(f"flow index: expected {into[0].shape[0]} rows, read {at}")


def _offsets(keys: np.ndarray, n: int) -> I64:
    out: I64 = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=out[1:])
    return out


def _prefix(amounts: I64) -> I64:
    out: I64 = np.zeros(amounts.shape[0] + 1, dtype=np.int64)
    np.cumsum(amounts, out=out[1:])  # int64 arithmetic wraps: a difference of two is exact when it fits
    return out


def transfers_version(lake_root: Path, files: Files | None = None) -> str:
    """What the index depends on: the transfers' files and their sizes (the lake only adds files);
    `files`: the transfers' files already listed for this request, None: list them now."""
    listed = files if files is not None else dataset_files(lake_root, DATASET)
    return "\n".join(f"{rel}\t{size}" for rel, size, _ in listed)


class FlowIndexes:
    """At most one index per process, for one (lake root, version); built in the background on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._index: FlowIndex | None = None
        self._building: tuple[str, str] | None = None
        self._failed: tuple[str, str] | None = None
        self._thread: threading.Thread | None = None

    def get(self, lake_root: Path, version: str | None = None) -> FlowIndex | None:
        """The index of this lake at this version, or None (and a build starts) when it is not ready."""
        key = (str(Path(lake_root)), version if version is not None else transfers_version(lake_root))
        with self._lock:
            if self._key == key and self._index is not None:
                return self._index
            if self._building is None and self._failed != key:
                kept = _open_kept(key)
                if kept is not None:
                    self._key, self._index = key, kept
                    return kept
                self._start(key)
        return None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a build in progress (tests, benchmarks, warming); True when none is running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def warm(self, lake_root: Path) -> None:
        """Start building the current version now (in the background) if it is not there yet."""
        self.get(lake_root)

    def drop(self) -> None:
        with self._lock:
            self._key, self._index, self._failed = None, None, None

    def _start(self, key: tuple[str, str]) -> None:
        self._building = key
        # Only one index is kept: the old one goes before the new one is built, bounding memory.
        self._key, self._index = None, None
        self._thread = builds.start("jinyu-flowindex", lambda run: self._build(key, run)).thread

    def _build(self, key: tuple[str, str], run: builds.Build) -> None:
        root = Path(key[0])
        try:
            # Another process (a second worker, a load's preparation) building this lake's index: wait for it,
            # then map what it kept rather than build the same arrays at the same time.
            with flowfiles.building(root, "flowindex", run):
                index = _open_kept(key)
                built = index is None
                if index is None:
                    index = build(root, cancel=run)
                self._done(key, index, built)
        except builds.Cancelled:
            log.info("flow index build cancelled", extra={"lake": key[0]})
            with self._lock:
                self._building = None
        except Exception:
            if run.cancelled:  # interrupted by the exit: not a failure of the build
                log.info("flow index build cancelled", extra={"lake": key[0]})
            else:
                log.exception("flow index build failed", extra={"lake": key[0]})
            with self._lock:
                self._building, self._failed = None, None if run.cancelled else key

    def _done(self, key: tuple[str, str], index: FlowIndex, built: bool) -> None:
        current = transfers_version(Path(key[0])) == key[1]
        with self._lock:
            self._building = None
            if current:
                self._key, self._index = key, index
        if not built:
            log.info("flow index mapped after another process built it", extra={"lake": key[0]})
            return
        log.info("flow index built", extra={"transfers": index.transfers, "seconds": index.build_seconds})
        if current:  # after it serves here: the next process (a restart, another worker) maps it
            flowfiles.save_arrays(Path(key[0]), _kept_version(key[1]), index.arrays())


def is_kept(lake_root: Path) -> bool:
    """Whether an index of the lake's current transfers is kept on disk and vouched for by its manifest (to
    map, not to build). A refused one (spoiled, of another format) is removed: not kept."""
    version = _kept_version(transfers_version(lake_root))
    return flowfiles.verified(Path(lake_root), version, ARRAYS)


def _open_kept(key: tuple[str, str]) -> FlowIndex | None:
    """The index an earlier process kept on disk for this (lake root, version), mapped; None if none."""
    version = _kept_version(key[1])
    arrays = flowfiles.open_arrays(Path(key[0]), version, ARRAYS)
    if arrays is None:
        return None
    try:
        return FlowIndex.mapped(arrays)
    except (ValueError, TypeError) as exc:
        flowfiles.discard(Path(key[0]), version, str(exc))
        return None


@cache
def _code() -> str:
    """This module's source: files another release's `build` wrote are another version, never mapped."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _kept_version(version: str) -> str:
    return f"{_code()}\n{version}"


_SHARED = FlowIndexes()


def shared_indexes() -> FlowIndexes:
    """The process's indexes (one serving process, one lake)."""
    return _SHARED
