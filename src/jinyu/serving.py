"""Serving an ASGI app with several worker processes, each with its own listening socket.

Why not `uvicorn.run(workers=N)`: there the parent binds one listening socket and every worker accepts on it. The
worker that wakes first accepts every pending connection at once (up to the backlog), and the hub's clients —
hospital settlement systems, bank platforms — keep pools of keep-alive connections open. Measured with the claims
benchmark, 50 keep-alive connections split 86 % / 14 % over two workers: one process (one GIL) did nearly all the
work while the other idled. Here each worker binds its own socket with SO_REUSEPORT and the Linux kernel hashes
each new connection to one of the listeners: the same benchmark split 50 / 50.

A small supervisor (the parent) checks the port, starts the workers, restarts one that dies, and stops them all on
SIGINT or SIGTERM. Where SO_REUSEPORT does not spread connections (not Linux), uvicorn's own multi-worker mode runs.

`python -m jinyu.serving APP --host H --port P --workers N [--factory] [--app-dir DIR] ...` serves any app this
way; the benchmarks use it. `jinyu serve` uses `run`.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

# uvicorn's own logger: the supervisor's lines appear wherever, and formatted however, uvicorn's do (uvicorn's
# format under `python -m jinyu.serving`, the JSON logs of `jinyu serve`).
logger = logging.getLogger("uvicorn.error")

# A worker that dies sooner than this after starting did not start; this many such deaths in a row of the same
# worker mean the app cannot start (bad settings, import error, database down), and restarting it in a loop
# would only hide that.
MIN_UPTIME = 10.0
MAX_QUICK_DEATHS = 3
# Seconds a worker gets to finish its requests after SIGTERM before it is killed.
STOP_TIMEOUT = 20.0


class ServingError(Exception):
    """The server cannot run (port taken, workers cannot start); the message says why, Chinese then English."""


def run(
    app: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    app_dir: str | None = None,
    **options: Any,
) -> None:
    """Serve `app` ("module:attribute") on host:port with `workers` processes until SIGINT or SIGTERM.

    `options` are uvicorn.Config keyword options (factory, log_config, access_log, timeout_keep_alive, ...); they
    go to the worker processes, so they must be picklable. `app_dir` is put first on sys.path before the app is
    imported. One worker is plain `uvicorn.run`: no supervisor process to pay for.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, workers=1, app_dir=app_dir, **options)
    elif not reuseport_spreads_connections():
        logger.warning(
            "此系统不支持 SO_REUSEPORT 分摊连接：各工作进程共用一个监听套接字，连接可能分布不均 / SO_REUSEPORT "
            "does not spread connections here: the workers share one listening socket and may get uneven shares"
        )
        uvicorn.run(app, host=host, port=port, workers=workers, app_dir=app_dir, **options)
    else:
        _supervise(app, host, port, workers, app_dir, options)


def reuseport_spreads_connections() -> bool:
    """Only Linux balances new connections over the sockets sharing a port; elsewhere (macOS, BSD without
    SO_REUSEPORT_LB) one of them gets them all, which would be worse than uvicorn's shared socket."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def check_port(host: str, port: int) -> None:
    """Fail clearly, before any worker starts, when host:port cannot be ours.

    The probe binds without SO_REUSEPORT: that fails for any current listener on the port, including one that
    uses SO_REUSEPORT itself — say a `jinyu serve` left running — which the workers would otherwise silently
    join, sharing the connections with it. SO_REUSEADDR lets a port with connections in TIME_WAIT be bound.
    """
    if port == 0:
        raise ServingError(
            "多个工作进程须指定固定端口 / several worker processes need a fixed port (each would get its own)"
        )
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServingError(
                f"无法监听 {host}:{port}，端口可能已被占用 / cannot listen on {host}:{port}, "
                f"is the port already in use? ({exc.strerror or exc})"
            ) from exc


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an address with a colon, as uvicorn decides."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening_socket(host: str, port: int) -> socket.socket:
    """A worker's own socket on host:port, bound but not yet listening.

    The kernel spreads connections only over listening sockets, and uvicorn listens only once the app is loaded
    and its startup has run: a worker still starting (or restarting) gets no connections to keep waiting.
    """
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(app: str, host: str, port: int, app_dir: str | None, options: dict[str, Any]) -> None:
    """The body of a worker process: a fresh interpreter (spawned), which gets only these arguments."""
    # Ctrl-C reaches the whole process group: the supervisor stops the workers with SIGTERM; a worker still
    # importing the app would otherwise print a KeyboardInterrupt traceback. uvicorn handles SIGINT once it runs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    config = uvicorn.Config(app, host=host, port=port, **options)  # configures this process's logging
    try:
        sock = _listening_socket(host, port)
    except OSError as exc:
        logger.error("工作进程无法监听 %s:%d / worker cannot bind %s:%d: %s", host, port, host, port, exc)
        sys.exit(STARTUP_FAILURE)
    _exit_with_parent(os.getppid())
    uvicorn.Server(config).run(sockets=[sock])


def _exit_with_parent(parent: int) -> None:
    """Stop this worker (gracefully, SIGTERM) when its supervisor is gone, e.g. killed with SIGKILL: nobody
    would stop or restart it any more, and its socket would keep taking a share of the port's connections."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="jinyu-parent-watch", daemon=True).start()


@dataclass
class _Slot:
    """One of the N workers: its current process, when that started, and how many died young in a row."""

    process: SpawnProcess
    started: float
    quick_deaths: int = 0


class _Supervisor:
    """Keeps `workers` worker processes running until asked to stop."""

    def __init__(self, app: str, host: str, port: int, app_dir: str | None, options: dict[str, Any]) -> None:
        # spawn, not fork: a fresh interpreter per worker, as uvicorn does, so no thread or lock of the parent
        # is copied half-way.
        self._context = multiprocessing.get_context("spawn")
        self._args = (app, host, port, app_dir, options)
        self._slots: list[_Slot] = []
        self.stop_signal: int | None = None

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: only note the signal; the main loop sees it within half a second."""
        self.stop_signal = signum

    def start(self, workers: int) -> None:
        for _ in range(workers):
            self._slots.append(_Slot(self._spawn(), time.monotonic()))

    def watch(self) -> None:
        """Until a stop is requested: wait for a worker to die and replace it."""
        while self.stop_signal is None:
            wait([slot.process.sentinel for slot in self._slots], timeout=0.5)
            for slot in self._slots:
                if self.stop_signal is None and slot.process.exitcode is not None:
                    self._replace(slot)

    def stop(self) -> None:
        """SIGTERM to every worker (uvicorn finishes the requests in progress), SIGKILL after STOP_TIMEOUT."""
        running = [slot.process for slot in self._slots if slot.process.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning(
                    "工作进程 [%s] 未在 %.0f 秒内停止，强制结束 / worker [%s] did not stop within %.0f s: killing it",
                    process.pid,
                    STOP_TIMEOUT,
                    process.pid,
                    STOP_TIMEOUT,
                )
                process.kill()
                process.join()

    def _spawn(self) -> SpawnProcess:
        process = self._context.Process(target=_worker, args=self._args, name="jinyu-worker")
        process.start()
        logger.info("已启动工作进程 [%s] / started worker process [%s]", process.pid, process.pid)
        return process

    def _replace(self, slot: _Slot) -> None:
        died = slot.process
        lived = time.monotonic() - slot.started
        slot.quick_deaths = slot.quick_deaths + 1 if lived < MIN_UPTIME else 0
        how = _exit_description(died.exitcode)
        if slot.quick_deaths >= MAX_QUICK_DEATHS:
            raise ServingError(
                f"工作进程连续 {slot.quick_deaths} 次在启动后 {MIN_UPTIME:.0f} 秒内退出（{how}），"
                "放弃；原因见上方日志 / "
                f"a worker process exited within {MIN_UPTIME:.0f} s of starting {slot.quick_deaths} times in a "
                f"row ({how}): giving up, see the log above for why"
            )
        logger.warning(
            "工作进程 [%s] 意外退出（%s），重新启动 / worker process [%s] died unexpectedly (%s): restarting it",
            died.pid,
            how,
            died.pid,
            how,
        )
        slot.process = self._spawn()
        slot.started = time.monotonic()


def _exit_description(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


def _supervise(
    app: str, host: str, port: int, workers: int, app_dir: str | None, options: dict[str, Any]
) -> None:
    """Run `workers` reuse-port workers until SIGINT or SIGTERM; raises ServingError when they cannot run."""
    check_port(host, port)
    # Built here only to check the options before any worker starts (a typo would otherwise make every worker
    # die at start) and to configure this process's logging the way the workers' is.
    uvicorn.Config(app, host=host, port=port, **options)
    supervisor = _Supervisor(app, host, port, app_dir, options)
    previous = {sig: signal.signal(sig, supervisor.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.start(workers)
        logger.info(
            "服务运行于 http://%s:%d，%d 个工作进程各自监听（SO_REUSEPORT），按 CTRL+C 停止 / serving on "
            "http://%s:%d with %d worker processes, each with its own listening socket (SO_REUSEPORT); "
            "press CTRL+C to quit",
            host,
            port,
            workers,
            host,
            port,
            workers,
        )
        supervisor.watch()
        name = signal.Signals(supervisor.stop_signal or signal.SIGTERM).name
        logger.info("收到 %s，停止工作进程 / received %s: stopping the workers", name, name)
    finally:
        supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jinyu.serving",
        description="以多个工作进程运行 ASGI 应用，每个进程有自己的监听套接字（SO_REUSEPORT），连接均匀分摊 / "
        "serve an ASGI app with worker processes that each have their own listening socket (SO_REUSEPORT), "
        "so connections spread evenly. Example: python -m jinyu.serving --app-dir benchmarks --factory "
        "bench_claims:make_app --port 8000 --workers 2",
    )
    parser.add_argument("app", metavar="APP", help="module:attribute, e.g. jinyu.app:serving_app")
    parser.add_argument("--host", default="127.0.0.1", help="监听地址 / bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="端口 / port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="工作进程数 / worker processes (default 1)")
    parser.add_argument("--factory", action="store_true", help="APP 是返回应用的工厂 / APP is an app factory")
    parser.add_argument(
        "--app-dir", default=None, help="先加入 sys.path 的目录 / directory put first on sys.path"
    )
    parser.add_argument(
        "--timeout-keep-alive",
        type=int,
        default=5,
        help="空闲连接保持秒数 / keep-alive timeout, s (default 5)",
    )
    parser.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        default=None,
        help="日志级别 / log level (default info)",
    )
    parser.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="不记访问日志 / no access log"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m jinyu.serving`: uvicorn's own logging set-up (as its command line has), exit code 1 when the
    server cannot run."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1 / 工作进程数至少为 1")
    options: dict[str, Any] = {
        "factory": args.factory,
        "access_log": args.access_log,
        "timeout_keep_alive": args.timeout_keep_alive,
    }
    if args.log_level is not None:
        options["log_level"] = args.log_level
    try:
        run(args.app, host=args.host, port=args.port, workers=args.workers, app_dir=args.app_dir, **options)
    except ServingError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
