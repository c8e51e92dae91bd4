"""Background builds of resident pieces (the transfer index, the tracing context), stopped cleanly at exit.

A build runs in a daemon thread, mostly inside DuckDB's C++ code. When the interpreter finalises while such a
thread is still in a statement, DuckDB's Python side can touch objects already torn down: the process once
aborted (SIGABRT) at the end of a CLI command that had started a build. So every build runs as a `Build`, the
DuckDB connections it uses are attached to it, and at interpreter exit (`atexit`, before finalisation) every
running build is cancelled — its statements interrupted, `Cancelled` raised at its next check — and its thread
joined (at most `EXIT_SECONDS`). A cancelled build keeps nothing and logs no error; the next process builds or
maps the files as before.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
EXIT_SECONDS = 30.0  # what exit waits for a cancelled build's thread at most (it stops at its next statement)


class Cancelled(Exception):
    """The build was cancelled (the process is exiting)."""


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


class Build:
    """One build in its thread: cancellable from another thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._cancelled = False
        self._attached: list[Interruptible] = []
        self.thread: threading.Thread | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def attach(self, target: Interruptible) -> None:
        """Interrupt `target` (a DuckDB connection, an engine) when the build is cancelled; at once if it is."""
        with self._lock:
            self._attached.append(target)
            cancelled = self._cancelled
        if cancelled:
            target.interrupt()

    def detach(self, target: Interruptible) -> None:
        with self._lock:
            if target in self._attached:
                self._attached.remove(target)

    def check(self) -> None:
        """Between steps: stop here when cancelled."""
        if self._cancelled:
            raise Cancelled(self.name)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            attached = list(self._attached)
        for target in attached:
            try:
                target.interrupt()
            except Exception:  # a connection closed meanwhile: nothing left to stop
                log.debug("interrupt failed", exc_info=True)


_lock = threading.Lock()
_running: set[Build] = set()


_exiting = threading.Event()


def start(name: str, target: Callable[[Build], None]) -> Build:
    """Run `target(build)` in a daemon thread, registered until it returns (cancelled at exit). Once the
    interpreter is exiting nothing starts: the build is returned cancelled, without a thread."""
    build = Build(name)
    if _exiting.is_set():
        build.cancel()
        return build

    def run() -> None:
        try:
            target(build)
        finally:
            with _lock:
                _running.discard(build)

    with _lock:
        _running.add(build)
    build.thread = threading.Thread(target=run, name=name, daemon=True)
    build.thread.start()
    return build


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Folded(Generic[K, V]):
    """Work asked for by key, done in one background build of its own: asks arriving while it runs are folded
    (one more piece of work per key, with the latest value asked with it). `work(build, key, value)` does one
    piece and handles its own failures (an exception it lets out is logged here and the rest goes on)."""

    def __init__(self, name: str, work: Callable[[Build, K, V], None]) -> None:
        self._name, self._work = name, work
        self._lock = threading.Lock()
        self._pending: dict[K, V] = {}
        self._run: Build | None = None

    def ask(self, key: K, value: V) -> None:
        """Queue `key` (returns at once); starts the build when none is running."""
        with self._lock:
            self._pending[key] = value
            if self._run is None:
                self._run = start(self._name, self._drain)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the work asked for so far (tests, benchmarks); True when none is running."""
        run = self._run
        if run is not None and run.thread is not None:
            run.thread.join(timeout)
            return not run.thread.is_alive()
        return True

    def _drain(self, run: Build) -> None:
        while True:
            with self._lock:
                if not self._pending or run.cancelled:
                    self._run = None
                    return
                key, value = self._pending.popitem()
            try:
                self._work(run, key, value)
            except Exception:
                log.exception("%s failed", self._name, extra={"key": str(key)})


def running() -> list[Build]:
    with _lock:
        return list(_running)


def exiting() -> bool:
    """Whether the interpreter is exiting (`stop_all(final=True)` ran): callers stop asking for builds."""
    return _exiting.is_set()


def stop_all(timeout: float = EXIT_SECONDS, *, final: bool = False) -> bool:
    """Cancel every running build and wait for their threads (at most `timeout` in all); True when all ended.
    `final` (at exit): no build starts afterwards either."""
    if final:
        _exiting.set()
    builds = running()
    for build in builds:
        build.cancel()
    deadline = time.monotonic() + timeout
    for build in builds:
        if build.thread is not None:
            build.thread.join(max(0.0, deadline - time.monotonic()))
    alive = [b.name for b in builds if b.thread is not None and b.thread.is_alive()]
    if alive:
        log.warning("builds still running at exit", extra={"builds": alive})
    return not alive


atexit.register(stop_all, final=True)
