"""The settlement endpoint's boundary: discharges that arrive together are settled together.

Each API process runs `JINYU_SETTLE_THREADS` (default 1) settlement threads. Requests hand their discharge
over and wait (without holding a worker thread); a free settlement thread takes every discharge waiting — up
to `JINYU_SETTLE_BATCH` (default 32), or just one — and settles them in one transaction (`service.batch`:
three round trips, commit included), answers each, then settles on its own, each in a transaction of its
own, those the batch handed back. While a batch is at the database the next one fills, so under load a batch
holds what arrived meanwhile and at low load a discharge goes at once. (A second thread measured worse on 2
cores: more batches contending for the same books.)

Optionally, under load, the batch also waits for more, until `JINYU_SETTLE_WINDOW_MS` after its first
discharge arrived (default 0: it never waits). Why it exists: a transaction's round trips and statements cost
about as much CPU as the rows of several settlements, so larger batches were expected to lower the CPU per
settlement at 300/s. Why it is off: on a quiet machine an 8 ms window made the batches at 300/s larger (2.4 →
2.9–4.5) without lowering the CPU per settlement, and raised p50 and p99 (docs/claims.md, issue 20). It waits
only while discharges arrive less than a window apart (an average of the gaps between them): at low load a
discharge still goes at once, and a first discharge that already waited behind the previous batch for a window
goes at once too.

A database error in a batch rolls it back and each of its discharges is settled on its own: a discharge is
answered once, from one committed transaction. A lost connection (`core.dbfaults`) is not rolled back but
invalidated, so the pool replaces it; a discharge whose own transaction loses its connection too is answered
`DatabaseUnavailable` (503 with `Retry-After`), and the client's retry of the same message settles it once —
or, when the connection went at the commit and the settlement was committed, finds it and answers it as a
replay. On databases without pipelines (SQLite) every discharge is settled on its own, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import service
from jinyu.claim.schemas import SettleIn
from jinyu.claim.service.batch import Job, Result, settle_batch
from jinyu.core.auth import Principal
from jinyu.core.dbfaults import discard, unavailable
from jinyu.core.pipeline import available
from jinyu.core.privacy import Keys

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    job: Job
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[service.Settled]


class SettlementBatcher:
    """One per process: `await settle(...)` from the event loop; the work happens on the batcher's thread."""

    def __init__(
        self, factory: sessionmaker[Session], max_batch: int = 32, threads: int = 1, window_ms: float = 0.0
    ) -> None:
        self.factory = factory
        self.max_batch, self.threads = max_batch, max(1, threads)
        self.window = max(0.0, window_ms) / 1000
        self._last_arrival: float | None = None
        self._gap = float("inf")  # moving average of the seconds between arrivals, as the threads take them
        self._queue: queue.Queue[_Waiting | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def settle(self, principal: Principal, data: SettleIn, key: Keys) -> service.Settled:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(Job(principal, data, key, time.monotonic()), loop, loop.create_future())
        self._ensure_running()
        self._queue.put(waiting)
        return await waiting.future

    def _ensure_running(self) -> None:
        if self._workers:
            return
        with self._lock:
            if not self._workers:
                for n in range(self.threads):
                    worker = threading.Thread(target=self._run, name=f"jinyu-settle-{n}", daemon=True)
                    worker.start()
                    self._workers.append(worker)

    def stop(self) -> None:
        """Settle what is waiting, then end the threads."""
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=30)
        self._workers = []

    # --------------------------------------------------------------------------------------------- the thread

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._gather(first)
            try:
                self._settle(batch)
            except BaseException as exc:  # never leave a request waiting
                log.exception("settlement batch failed")
                _answer_all([(w, unavailable(exc) or exc) for w in batch])

    def _gather(self, first: _Waiting) -> list[_Waiting]:
        """The first discharge and every one waiting; under load, also those arriving within the window."""
        batch = [first]
        self._arrived(first)
        deadline = first.job.started + self.window if self._loaded() else 0.0
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                more = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(more)
            self._arrived(more)
        return batch

    def _arrived(self, waiting: _Waiting) -> None:
        at = waiting.job.started
        with self._lock:
            if self._last_arrival is not None and at >= self._last_arrival:
                gap = at - self._last_arrival
                self._gap = gap if self._gap == float("inf") else 0.8 * self._gap + 0.2 * gap
            self._last_arrival = max(at, self._last_arrival or at)

    def _loaded(self) -> bool:
        """Discharges arrive closer together than the window: waiting for one more is likely to pay."""
        return self.window > 0 and self._gap < self.window

    def _settle(self, batch: list[_Waiting]) -> None:
        started = time.perf_counter()
        results = self._together(batch)
        log.debug(
            "settlement batch",
            extra={
                "size": len(batch),
                "alone": sum(r is None for r in results),
                "ms": round(1000 * (time.perf_counter() - started), 1),
            },
        )
        _answer_all([(w, result) for w, result in zip(batch, results, strict=True) if result is not None])
        for w, result in zip(batch, results, strict=True):
            if result is None:
                _answer_all([(w, self._alone(w.job))])

    def _together(self, batch: list[_Waiting]) -> list[Result]:
        session = self.factory()
        try:
            if not available(session):
                return [None] * len(batch)
            results = settle_batch(session, [w.job for w in batch])
            session.commit()
            return results
        except Exception as exc:
            log.warning("settlement batch rolled back: settling each on its own", exc_info=True)
            discard(session, exc)  # a lost connection is invalidated, not rolled back (that would raise)
            return [None] * len(batch)
        finally:
            session.close()

    def _alone(self, job: Job) -> Result:
        session = self.factory()
        try:
            settled = service.settle(session, job.principal, job.data, job.key, started=job.started)
            session.commit()
            return settled
        except Exception as exc:
            discard(session, exc)
            return unavailable(exc) or exc  # lost: 503, the client retries the same message
        finally:
            session.close()


Answer = tuple[_Waiting, Result | BaseException]


def _answer_all(answers: list[Answer]) -> None:
    """Hand the answers to their event loops: one call per loop, not per discharge. Why: each
    `call_soon_threadsafe` wakes the loop (a write to its self-pipe, a system call and a switch of the GIL)
    and a batch's answers are ready together; the loop then resolves them in one callback."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].loop, []).append(answer)
    for loop, mine in by_loop.items():
        loop.call_soon_threadsafe(_deliver, mine)


def _deliver(answers: list[Answer]) -> None:
    """On the event loop: resolve each request's future (unless its client went away)."""
    for waiting, result in answers:
        if waiting.future.done():
            continue
        if isinstance(result, BaseException):
            waiting.future.set_exception(result)
        else:
            waiting.future.set_result(result)  # type: ignore[arg-type]
