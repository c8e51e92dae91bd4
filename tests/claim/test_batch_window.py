"""The settlement batcher's window: under load a batch waits for discharges arriving soon after its first one;
at low load, or when its first one has already waited a window, it goes at once (no database needed)."""

from __future__ import annotations

import threading
import time
from typing import Any

from jinyu.claim.batcher import SettlementBatcher, _Waiting
from jinyu.claim.service.batch import Job

WINDOW_MS = 1000.0  # wide, so that the threads below are well inside it on a loaded machine


def _waiting(started: float) -> _Waiting:
    job = Job(principal=None, data=None, key=None, started=started)  # type: ignore[arg-type]
    return _Waiting(job, loop=None, future=None)  # type: ignore[arg-type]


def _batcher(window_ms: float = WINDOW_MS) -> SettlementBatcher:
    return SettlementBatcher(factory=None, max_batch=4, window_ms=window_ms)  # type: ignore[arg-type]


def _loaded(b: SettlementBatcher) -> None:
    """Arrivals 1 ms apart, as under load: the average gap falls below the window."""
    now = time.monotonic()
    for n in range(5):
        b._arrived(_waiting(now - 0.005 + n * 0.001))


def _put_later(b: SettlementBatcher, item: Any, after_s: float) -> threading.Thread:
    def put() -> None:
        time.sleep(after_s)
        b._queue.put(item)

    t = threading.Thread(target=put)
    t.start()
    return t


def test_under_load_a_batch_takes_what_arrives_within_the_window() -> None:
    b = _batcher()
    _loaded(b)
    first = _waiting(time.monotonic())
    later = _waiting(time.monotonic())
    t = _put_later(b, later, 0.05)
    batch = b._gather(first)
    t.join()
    assert batch == [first, later]


def test_at_low_load_a_discharge_goes_at_once() -> None:
    b = _batcher()  # nothing arrived before: no gap known
    first = _waiting(time.monotonic())
    t = _put_later(b, _waiting(time.monotonic()), 0.05)
    batch = b._gather(first)
    t.join()
    assert batch == [first]
    assert b._queue.qsize() == 1  # the later one is the next batch's


def test_a_first_discharge_that_already_waited_a_window_goes_with_what_is_waiting() -> None:
    b = _batcher()
    _loaded(b)
    waiting = _waiting(time.monotonic())
    b._queue.put(waiting)
    first = _waiting(time.monotonic() - 2 * WINDOW_MS / 1000)
    t = _put_later(b, _waiting(time.monotonic()), 0.05)
    batch = b._gather(first)
    t.join()
    assert batch == [first, waiting]


def test_a_full_batch_does_not_wait_and_stop_is_kept() -> None:
    b = _batcher()
    _loaded(b)
    items = [_waiting(time.monotonic()) for _ in range(5)]
    for item in items[1:4]:
        b._queue.put(item)
    assert b._gather(items[0]) == items[:4]  # max_batch 4
    b._queue.put(None)
    assert b._gather(items[4]) == [items[4]]
    assert b._queue.get_nowait() is None  # the stop is still there for the thread


def test_no_window_never_waits() -> None:
    b = _batcher(window_ms=0)
    _loaded(b)
    first = _waiting(time.monotonic())
    t = _put_later(b, _waiting(time.monotonic()), 0.05)
    assert b._gather(first) == [first]
    t.join()
