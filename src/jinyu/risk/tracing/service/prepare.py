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
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinyu.analytics import flowindex
from jinyu.analytics.listing import dataset_files
from jinyu.risk.tracing.service import kept
from jinyu.risk.tracing.service.base import LISTED, data_version
from jinyu.risk.tracing.service.context import ResidentContexts

log = logging.getLogger(__name__)
TRACED = frozenset((*LISTED, flowindex.DATASET))  # a load of any other dataset leaves both as they were
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


def prepare(lake_root: Path) -> Prepared:
    """Build and keep the index and the context of the lake's current files, unless kept already."""
    started = time.perf_counter()
    index = _index(lake_root)
    context = _context(lake_root)
    return Prepared(index, context, round(time.perf_counter() - started, 2))


def _index(lake_root: Path) -> State:
    if flowindex.is_kept(lake_root):
        return "kept"
    holder = flowindex.FlowIndexes()
    try:
        holder.get(lake_root)  # builds in its thread and keeps the arrays once built
        holder.wait()
    except Exception:
        log.exception("flow index not prepared", extra={"lake": str(lake_root)})
        return "failed"
    return "built" if flowindex.is_kept(lake_root) else "failed"


def _context(lake_root: Path) -> State:
    if _context_kept(lake_root):
        return "kept"
    holder = ResidentContexts()
    try:
        holder.get(lake_root)
        holder.wait()
    except Exception:
        log.exception("tracing context not prepared", extra={"lake": str(lake_root)})
        return "failed"
    return "built" if _context_kept(lake_root) else "failed"


def _context_kept(lake_root: Path) -> bool:
    return kept.is_kept(lake_root, data_version(lake_root, LISTED).fingerprint)
