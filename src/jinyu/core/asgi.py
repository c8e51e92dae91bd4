"""The HTTP edge as plain ASGI: request ids, metrics, access log and admission control.

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`: that one runs every request through extra tasks and
memory streams, which on two cores costs more than some of our handlers.

Admission control: at most `max_inflight` API requests of this process are being handled at once (and at most
`max_heavy` long-running ones, in a line of their own); up to `max_queued` more per line wait their turn in the
event loop (cheap), and beyond that the request is refused at once with 503 and `Retry-After` instead of
piling up threads, connections and row locks. Sync handlers run on
worker threads; past a couple of dozen busy threads per process the interpreter spends its time handing the
GIL around, and every waiting thread may hold a pooled connection or a row lock that others queue behind.
Health, readiness and metrics bypass the limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jinyu.core.logging import request_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("jinyu.http")
LIMITED_PREFIX = "/api/"


class EdgeMetrics:
    """The process's HTTP metrics, in their own registry (served at /metrics)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jinyu_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "jinyu_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry
        )
        self.inflight = Gauge("jinyu_http_inflight", "API requests being handled", registry=self.registry)
        self.queued = Gauge("jinyu_http_queued", "API requests waiting for admission", registry=self.registry)
        self.shed = Counter(
            "jinyu_http_shed_total", "API requests refused with 503 (queue full)", registry=self.registry
        )


class _Lane:
    """One admission line: at most `size` requests handled at once, the rest waiting in the event loop."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self.slots: asyncio.Semaphore | None = None  # made inside the running loop
        self.waiting = 0


class Edge:
    """Wraps the app: admission control for /api/, then request id, timing, metrics and one log line.

    Three lines: `heavy` requests (matched by method and path prefix: bulk uploads, batches, whole-chain walks,
    which may run for seconds or minutes) have their own few slots, so they can never take every slot from the
    short requests (a hospital's settlement must not wait behind a batch); `batched` requests (instant
    settlement) wait for a batching thread rather than hold a worker thread, so many may be in at once — the
    more that wait together, the larger and cheaper their batches."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: EdgeMetrics,
        *,
        max_inflight: int,
        max_queued: int,
        max_heavy: int = 2,
        heavy: tuple[tuple[str, str], ...] = (),
        max_batched: int = 256,
        batched: tuple[tuple[str, str], ...] = (),
        direct: dict[tuple[str, str], ASGIApp] | None = None,
    ) -> None:
        self.app, self.metrics, self.max_queued = app, metrics, max_queued
        self.heavy, self.batched = heavy, batched
        # Exact (method, path) served by a plain ASGI handler instead of the framework's routing and dependency
        # solving (the busiest route: see claim.fastroute); admission, request ids and metrics as for any other.
        self.direct = direct or {}
        self.lanes = {
            "api": _Lane("api", max_inflight),
            "heavy": _Lane("heavy", max_heavy),
            "batched": _Lane("batched", max_batched),
        }

    def lane_of(self, scope: Scope) -> _Lane | None:
        path = str(scope.get("path", ""))
        if not path.startswith(LIMITED_PREFIX):
            return None
        method = str(scope.get("method", ""))
        if any(method == m and path == route for m, route in self.batched):
            return self.lanes["batched"]
        is_heavy = any(method == m and path.startswith(prefix) for m, prefix in self.heavy)
        return self.lanes["heavy" if is_heavy else "api"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lane = self.lane_of(scope)
        if lane is None:
            await self._observed(scope, receive, send)
            return
        if lane.slots is None:
            lane.slots = asyncio.Semaphore(lane.size)
        if lane.slots.locked() and lane.waiting >= self.max_queued:
            self.metrics.shed.inc()
            await _overloaded(scope, send)
            return
        lane.waiting += 1
        self.metrics.queued.inc()
        try:
            await lane.slots.acquire()
        finally:
            lane.waiting -= 1
            self.metrics.queued.dec()
        self.metrics.inflight.inc()
        try:
            await self._observed(scope, receive, send)
        finally:
            self.metrics.inflight.dec()
            lane.slots.release()

    async def _observed(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = _header(scope, b"x-request-id") or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        handler = self.direct.get((str(scope.get("method", "")), str(scope.get("path", "")))) or self.app
        try:
            await handler(scope, receive, send_with_id)
        finally:
            try:
                self._record(scope, status, time.perf_counter() - started, rid)
            finally:
                request_id.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float, rid: str) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        method = str(scope.get("method", ""))
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(elapsed)
        if log.isEnabledFor(logging.INFO):  # logged while the request id is still set
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "rid": rid,
                },
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text[:64] or None
    return None


async def _overloaded(scope: Scope, send: Send) -> None:
    body = json.dumps(
        {
            "type": "urn:jinyu:problem:overloaded",
            "title": "服务繁忙 / Service overloaded",
            "status": 503,
            "detail": "排队请求已满，请稍后重试 / too many requests are waiting; retry after a second",
            "code": "overloaded",
            "instance": str(scope.get("path", "")),
        },
        ensure_ascii=False,
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
