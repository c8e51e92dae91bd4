"""Serving with worker processes that each have their own listening socket (`jinyu.serving`).

The server runs as `python -m jinyu.serving` in its own process group, which every test kills at the end whatever
happens, so no worker outlives a failing test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jinyu import serving
from jinyu.config import get_settings

HERE = Path(__file__).resolve().parent
linux_only = pytest.mark.skipif(
    not serving.reuseport_spreads_connections(), reason="SO_REUSEPORT spreads connections on Linux only"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(tmp_path: Path, app: str, port: int, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "jinyu.serving", "--app-dir", str(HERE), "--factory", app),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
                *("--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "60"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _log(tmp_path: Path) -> str:
    return (tmp_path / "server.log").read_text(errors="replace")


def _ask(sock: socket.socket) -> None:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")


def _answer(sock: socket.socket) -> int:
    """The pid in the response to `_ask` (the body, whose length the headers give)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return int(body)


def _pid_of_a_new_connection(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        _ask(sock)
        return _answer(sock)


def _wait_for_pids(
    proc: subprocess.Popen[bytes], port: int, tmp_path: Path, want: int, avoid: set[int]
) -> set[int]:
    """Pids seen on fresh connections until `want` pids not in `avoid` answered (or fail after 15 s)."""
    seen: set[int] = set()
    until = time.monotonic() + 15
    while len(seen - avoid) < want:
        assert proc.poll() is None, f"the server exited ({proc.returncode}):\n{_log(tmp_path)}"
        assert time.monotonic() < until, f"only {seen} answered:\n{_log(tmp_path)}"
        try:
            seen.add(_pid_of_a_new_connection(port))
        except OSError:  # not listening yet, or a connection to a worker that was just killed
            time.sleep(0.1)
    return seen - avoid


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _listening_sockets(port: int) -> int:
    """TCP sockets in state LISTEN on `port` (IPv4), from /proc/net/tcp."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == "0A")


def _running(pid: int) -> bool:
    """Exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@linux_only
def test_connections_spread_over_workers_a_dead_worker_is_replaced_and_sigterm_stops_all(
    tmp_path: Path,
) -> None:
    port = _free_port()
    with _server(tmp_path, "serving_app:make_app", port) as proc:
        workers = _wait_for_pids(proc, port, tmp_path, want=2, avoid=set())
        assert workers <= _children(proc.pid)

        assert _listening_sockets(port) == 2  # one per worker, not one shared by both
        # 40 fresh connections, all open at once: the kernel hashes each to one of the two listening sockets, so
        # both workers answer (all 40 on one of them: probability 2^-39).
        conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
        try:
            for sock in conns:
                _ask(sock)
            answered = [_answer(sock) for sock in conns]
        finally:
            for sock in conns:
                sock.close()
        assert set(answered) == workers, answered

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replacement = _wait_for_pids(proc, port, tmp_path, want=1, avoid=workers)
        assert not _running(victim)
        assert "SIGKILL" in _log(tmp_path)  # the restart is logged with the cause

        children = _children(proc.pid)
        assert replacement <= children
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, _log(tmp_path)
        # A helper such as multiprocessing's resource tracker ends when it reads EOF from the parent.
        until = time.monotonic() + 10
        while any(_running(pid) for pid in children) and time.monotonic() < until:
            time.sleep(0.1)
        assert not [pid for pid in children if _running(pid)]


@linux_only
def test_a_port_already_in_use_stops_the_server_with_a_readable_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _server(tmp_path, "serving_app:make_app", port) as proc:
            assert proc.wait(timeout=30) == 1
    log = _log(tmp_path)
    assert f"127.0.0.1:{port}" in log and "in use" in log and "端口" in log, log


@linux_only
def test_workers_that_cannot_start_make_the_server_give_up(tmp_path: Path) -> None:
    with _server(tmp_path, "serving_app:broken_app", _free_port()) as proc:
        assert proc.wait(timeout=60) == 1
    log = _log(tmp_path)
    assert "this app cannot start" in log and "giving up" in log, log


def test_one_worker_is_plain_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    serving.run("pkg:app", host="0.0.0.0", port=9000, workers=1, factory=True, timeout_keep_alive=60)
    assert calls == [
        (
            ("pkg:app",),
            dict(host="0.0.0.0", port=9000, workers=1, app_dir=None, factory=True, timeout_keep_alive=60),
        )
    ]


def test_without_reuseport_uvicorn_runs_its_own_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda *a, **k: calls.append(k))
    monkeypatch.setattr(serving, "reuseport_spreads_connections", lambda: False)
    serving.run("pkg:app", port=9000, workers=3, app_dir="somewhere")
    assert calls == [dict(host="127.0.0.1", port=9000, workers=3, app_dir="somewhere")]


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`jinyu serve` sets JINYU_TRACING_WARM, JINYU_CHAIN_NETWORK_DUE_SECONDS (unless given) and configures
    logging: all undone after the test (the due-check would otherwise run in every later app of the run)."""
    monkeypatch.setenv("JINYU_TRACING_WARM", "false")
    monkeypatch.setenv("JINYU_CHAIN_NETWORK_DUE_SECONDS", "0")
    monkeypatch.delenv("JINYU_CHAIN_NETWORK_DUE_SECONDS")  # absent during the test, and again after it
    monkeypatch.setattr("jinyu.core.logging.configure", lambda level: None)
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("serve_env")
def test_jinyu_serve_runs_the_serving_app_factory_with_the_workers_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jinyu.cli import app

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(serving, "run", lambda *a, **k: calls.append((a, k)))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            ("jinyu.app:serving_app",),
            dict(host="127.0.0.1", port=8123, workers=3, factory=True, log_config=None, access_log=False),
        )
    ]
    assert os.environ["JINYU_TRACING_WARM"] == "true"
    assert os.environ["JINYU_CHAIN_NETWORK_DUE_SECONDS"] == "30"


@pytest.mark.usefixtures("serve_env")
def test_jinyu_serve_reports_a_serving_error_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from jinyu.cli import app

    def fail(*args: Any, **kwargs: Any) -> None:
        raise serving.ServingError("无法监听 [::1]:8123 / cannot listen on [::1]:8123")

    monkeypatch.setattr(serving, "run", fail)
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "--workers", "2"])
    assert result.exit_code == 1
    assert "cannot listen on [::1]:8123" in result.output
