"""Work every process does once, done at start rather than by the first visitor of a page.

Measured on the medium region (`benchmarks/bench_console_cold.py`: a new process per page, its first request
timed), the first request of a page in a process paid for things that are the same for every request and every
visitor, done lazily on first use:
- the data-security policy (`policy.yaml`, ~1,300 lines) parsed by PyYAML's pure-Python loader: ~0.3 s on the
  first page that protects an answer (orders, consents, claims...);
- each page's Jinja template (and the base it extends) compiled to Python: 20-60 ms per page;
- pandas imported by pyarrow on its first conversion of Python objects to Arrow (`pa.array([...])`, which checks
  whether the objects are pandas'): ~0.5 s with bytecode cached, seconds without; the chain page's first
  request paid it;
- the chain definitions (`chains.json`) parsed and validated.

`warm_process` does them at start (the app's lifespan, before the first request is accepted). Each is cached
for the life of the process by the code that uses it (`functools.cache`, Jinja's template cache), so this only
moves the work earlier: no answer changes, nothing is read from the lake or the database.

`hold_chain_answers` (a start that prepares, `tracing_warm`: `jinyu serve`) reads into the process's answers
what the last load (`jinyu.load_prepare.prepare_pages`) or an earlier process kept beside the lake for the chain
page: each chain's links, flows, loans and borrowers of the last twelve months, segment counts, member lists and
stored network (`jinyu.chain.scheduler.warm_pages`, months held on disk read rather than computed). The first
chain page then reads none of its ~36 small files (2026-12-07, h-bm: ~30 % of its first request after a load's
preparation, profiled). Nothing is computed at start when nothing is kept (the store is empty): the scheduler's
warm-up, or the first visitor, computes as before.

`after_pages` (a load through the API, `POST /ingest/{dataset}`, on a server that prepares, as `jinyu serve`
runs): the chain page's answers computed and kept for the lake's new files, in a thread of its own after the
load has answered, as `jinyu ingest` does at its end (`prepare_pages`) — not left to the scheduler's next tick
(`JINYU_CHAIN_NETWORK_DUE_SECONDS`) or the first visitor. Loads arriving meanwhile fold into one more run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import builds
from jinyu.analytics.listing import dataset_files
from jinyu.analytics.results import store_dir
from jinyu.chain import definitions, scheduler
from jinyu.governance.policy import protect
from jinyu.web.render import ENV

log = logging.getLogger(__name__)


def warm_process() -> None:
    protect.current()
    definitions.load()
    for name in ENV.list_templates(filter_func=lambda n: n.endswith(".html")):
        ENV.get_template(name)
    pa.array([0])  # pyarrow's lazy import of pandas (see the module's doc)


def hold_chain_answers(factory: sessionmaker[Session], lake_dir: Path) -> list[str]:
    """The chain page's kept answers held in this process (see the module's doc); the months, or none when
    nothing is kept beside the lake. Months kept for other files (a load since) are computed, as the
    scheduler's warm-up would."""
    try:
        with os.scandir(store_dir(lake_dir)) as entries:
            if not any(entries):
                return []
    except OSError:  # no store yet
        return []
    try:
        return scheduler.warm_pages(factory, lake_dir)
    except Exception:  # a start never fails for a warm-up: the first visitor computes what is missing
        log.warning("chain page answers not held at start", exc_info=True)
        return []


class PagesAfterLoads:
    """The chain page's answers prepared after loads through the API (see the module's doc): the serving
    process's own answers (`warm_pages`, kept beside the lake for the other workers and the next start), in a
    background build of its own, never on a request's path. A failure is logged; the load stands."""

    def __init__(self) -> None:
        self._builds: builds.Folded[Path, sessionmaker[Session]] = builds.Folded(
            "jinyu-chain-pages-prepare", self._prepare
        )
        self.last: list[str] | None = None  # the months of the last preparation (tests, benchmarks)

    def submit(self, factory: sessionmaker[Session], lake_dir: Path, datasets: Iterable[str]) -> bool:
        """After a committed load of `datasets`: prepare when the page reads one of them and the lake has chains
        (members) to show (returns at once)."""
        if not scheduler.PAGE_INPUTS.intersection(datasets) or not dataset_files(lake_dir, "chain_members"):
            return False
        self._builds.ask(Path(lake_dir), factory)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the preparations asked for so far; True when none is running."""
        return self._builds.wait(timeout)

    def _prepare(self, run: builds.Build, lake_dir: Path, factory: sessionmaker[Session]) -> None:
        try:
            self.last = scheduler.warm_pages(factory, lake_dir)
        except Exception:  # the load has committed: the scheduler or the first visitor computes instead
            log.exception("chain page answers not prepared after a load", extra={"lake": str(lake_dir)})
            return
        log.info(
            "chain page answers prepared after a load", extra={"lake": str(lake_dir), "months": self.last}
        )


_AFTER_PAGES = PagesAfterLoads()


def after_pages() -> PagesAfterLoads:
    """The process's preparer of the chain page after API loads."""
    return _AFTER_PAGES
