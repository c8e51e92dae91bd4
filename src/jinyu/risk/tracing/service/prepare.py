"""The resident transfer index and tracing context built and kept at the end of a load, not at the next start.

A serving process maps what an earlier process kept beside the lake (`flowfiles`, `kept`), but the first start
after a load found nothing for the new data version: it built both in the background while the loan check
traced over the lake (seconds). The load that changed their inputs is the process that knows it did, so it
builds and keeps them before it ends (`jinyu ingest`, `jinyu ingest-region`, `jinyu demo`; `--no-prepare`
leaves it to the server, as before). The same holders a server uses build them, so the files are exactly
those a server would have written. Preparing never fails the load: a failure is reported and logged, and the
server builds as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from jinyu.analytics import builds, flowindex
from jinyu.analytics.listing import dataset_files
from jinyu.risk.tracing.service import kept
from jinyu.risk.tracing.service.base import LISTED, data_version
from jinyu.risk.tracing.service.context import ResidentContexts, shared_contexts

log = logging.getLogger(__name__)
TRACED = frozenset((*LISTED, flowindex.DATASET))  # a load of any other dataset leaves both as they were
ATTEMPTS = 3  # builds asked for in a row: the first may have been of an older version, already running
State = Literal["built", "kept", "failed"]


@dataclass(frozen=True)
class Prepared:
    index: State  # "kept": an earlier process had kept this version already, nothing built
    context: State
    seconds: float

    @property
    def ok(self) -> bool:
        return "failed" not in (self.index, self.context)


def needed(lake_root: Path, datasets: Iterable[str]) -> bool:
    """Whether a load of `datasets` changed what tracing reads, on a lake with transfers to trace."""
    return bool(TRACED.intersection(datasets)) and bool(dataset_files(lake_root, flowindex.DATASET))


def prepare(
    lake_root: Path, flows: flowindex.FlowIndexes | None = None, contexts: ResidentContexts | None = None
) -> Prepared:
    """Build and keep the index and the context of the lake's current files, unless kept already.
    `flows`, `contexts`: the holders to build with (a serving process passes its own, so that it serves
    them too); default new ones, dropped afterwards (a load's command)."""
    started = time.perf_counter()
    index = _ready(
        lambda: flowindex.is_kept(lake_root), flows or flowindex.FlowIndexes(), lake_root, "flow index"
    )
    context = _ready(lambda: _context_kept(lake_root), contexts or ResidentContexts(), lake_root, "context")
    return Prepared(index, context, round(time.perf_counter() - started, 2))


class _Holder(Protocol):
    def get(self, lake_root: Path) -> object: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def _ready(is_kept: Callable[[], bool], holder: _Holder, lake_root: Path, what: str) -> State:
    """Kept already, or built (and kept) by `holder` now. A holder busy with an older version's build (a
    serving process after two loads in a row) is waited for, then asked again for the current one."""
    if is_kept():
        return "kept"
    for _ in range(ATTEMPTS):
        if builds.exiting():  # the process is ending: the next one builds or maps
            return "failed"
        try:
            holder.get(lake_root)  # builds in its thread (or waits for another process's build) and keeps it
            holder.wait()
        except Exception:
            log.exception("%s not prepared", what, extra={"lake": str(lake_root)})
            return "failed"
        if is_kept():
            return "built"
    log.error("%s not prepared: not kept after the build", what, extra={"lake": str(lake_root)})
    return "failed"


def _context_kept(lake_root: Path) -> bool:
    return kept.is_kept(lake_root, data_version(lake_root, LISTED).fingerprint)


class AfterLoads:
    """A serving process's preparation after loads through the API (`POST /ingest/{dataset}`): what the CLI
    does at the end of `jinyu ingest`, with the process's own holders (so it serves both at once and other
    workers map the kept files), in a background thread of its own — never on a request's path, never the
    request's connection (the upload has answered and committed). Loads arriving while one preparation runs
    are folded into one more, of the lake's files then. A failure is logged; the load stands."""

    def __init__(self, flows: flowindex.FlowIndexes, contexts: ResidentContexts) -> None:
        self.flows, self.contexts = flows, contexts
        self._builds: builds.Folded[Path, None] = builds.Folded("jinyu-tracing-prepare", self._prepare)
        self.last: Prepared | None = None

    def submit(self, lake_root: Path, datasets: Iterable[str]) -> bool:
        """After a committed load of `datasets`: prepare when it changed what tracing reads (returns at once)."""
        try:
            if not needed(lake_root, datasets):
                return False
        except Exception:
            log.exception("resident tracing pieces not prepared", extra={"lake": str(lake_root)})
            return False
        self._builds.ask(Path(lake_root), None)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the preparations asked for so far (tests, benchmarks); True when none is running."""
        return self._builds.wait(timeout)

    def _prepare(self, run: builds.Build, lake_root: Path, _: None) -> None:
        try:
            result = prepare(lake_root, self.flows, self.contexts)
        except Exception:
            log.exception("resident tracing pieces not prepared", extra={"lake": str(lake_root)})
            return
        self.last = result
        extra = {"lake": str(lake_root), "index": result.index, "context": result.context}
        if result.ok:
            log.info(
                "resident tracing pieces prepared after a load", extra={**extra, "seconds": result.seconds}
            )
        elif not run.cancelled:
            log.warning("resident tracing pieces not prepared after a load; built on demand", extra=extra)


_AFTER_LOADS: AfterLoads | None = None
_AFTER_LOADS_LOCK = threading.Lock()


def after_loads() -> AfterLoads:
    """The process's preparation after API loads, with its shared holders (those its requests use)."""
    global _AFTER_LOADS
    with _AFTER_LOADS_LOCK:
        if _AFTER_LOADS is None:
            _AFTER_LOADS = AfterLoads(flowindex.shared_indexes(), shared_contexts())
        return _AFTER_LOADS
