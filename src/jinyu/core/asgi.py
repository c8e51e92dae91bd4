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

Bounded bodies: every request body has a limit (`body_limit`, larger for the routes in `body_limits`; a request
without any credential header is held to `body_limit` everywhere). A declared `Content-Length` above it is
answered 413 before the app sees the request — before parsing and before any authentication work; a body without
one (chunked) is counted as it streams in and refused with 413 the moment it passes the limit. Only the limit's
worth of bytes is ever read.

Unexpected errors: an exception that no handler turned into an answer is logged here, while the request id is
still set, and answered 500 `application/problem+json` carrying that id (the same one as the `X-Request-ID`
header and the log line).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException

from jinyu.core.errors import PayloadTooLarge
from jinyu.core.logging import request_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("jinyu.http")
LIMITED_PREFIX = "/api/"
MIB = 1024 * 1024
PROBLEM = b"application/problem+json"


def size_text(limit: int) -> str:
    """`1 MiB`, `64 KiB`, `1000 bytes`: a limit as people read it."""
    for unit, size in (("MiB", MIB), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 problem of a body over `limit` bytes (the limit in the message and as `limit_bytes`)."""
    text = size_text(limit)
    return PayloadTooLarge(
        detail=f"请求体超过上限 {text} / the request body exceeds the limit of {text} ({limit} bytes)",
        extra={"limit_bytes": limit},
    )


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit. An HTTPException on purpose: the framework's
    body parsing passes those through (any other error there becomes a 400); the app renders it as 413
    (`error.problem`), and the edge does for handlers outside the framework."""

    def __init__(self, limit: int) -> None:
        self.error = too_large(limit)
        super().__init__(status_code=413, detail=self.error.detail)


class DirectTemplate(Protocol):
    """A plain ASGI handler of a path template (a path with parameters, e.g. `/api/v1/risk/loans/{id}/misuse`)."""

    def matches(self, path: str) -> bool: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


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
        direct_templates: tuple[tuple[str, str, DirectTemplate], ...] = (),
        body_limit: int = MIB,
        body_limits: tuple[tuple[str, str, int], ...] = (),
    ) -> None:
        self.app, self.metrics, self.max_queued = app, metrics, max_queued
        # (method, path prefix, bytes): routes whose bodies may be larger than `body_limit` (uploads)
        self.body_limit, self.body_limits = body_limit, body_limits
        self.heavy, self.batched = heavy, batched
        # Exact (method, path) served by a plain ASGI handler instead of the framework's routing and dependency
        # solving (the busiest route: see claim.fastroute); admission, request ids and metrics as for any other.
        self.direct = direct or {}
        # (method, path prefix, handler): path templates served directly, when the prefix matches and then the
        # handler's own `matches(path)` does (e.g. the one-loan checks: see risk.tracing.fastroute). Other
        # requests pay one method and prefix comparison per template.
        self.direct_templates = direct_templates
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

    def body_limit_of(self, scope: Scope) -> int:
        """The route's limit; a request with no credential header at all gets the default one everywhere (an
        upload is parsed before its caller is authenticated, so an anonymous one would be read whole first)."""
        method, path = str(scope.get("method", "")), str(scope.get("path", ""))
        for m, prefix, limit in self.body_limits:
            if method == m and path.startswith(prefix):
                credentialed = _header(scope, b"authorization") or _header(scope, b"x-api-key")
                return limit if credentialed else min(limit, self.body_limit)
        return self.body_limit

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
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = int(message["status"]), True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        method, path = str(scope.get("method", "")), str(scope.get("path", ""))
        handler = self.direct.get((method, path)) or self._templated(method, path, scope) or self.app
        limit = self.body_limit_of(scope)
        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                await _answer(send_with_id, too_large(limit).problem(path))
                return
            await handler(scope, _bounded(receive, limit), send_with_id)
        except BodyTooLarge as exc:
            if answered:
                raise
            await _answer(send_with_id, exc.error.problem(path))
        except Exception:
            # Logged here, where the request id is still set; the answer carries the same id.
            log.error(
                "unhandled error",
                exc_info=True,
                extra={"method": scope.get("method"), "path": path, "request_id": rid},
            )
            if answered:
                raise
            await _answer(send_with_id, _internal_error(path, rid))
        finally:
            try:
                self._record(scope, status, time.perf_counter() - started, rid)
            finally:
                request_id.reset(token)

    def _templated(self, method: str, path: str, scope: Scope) -> ASGIApp | None:
        if scope.get("root_path"):  # the app's router matches the path without it: leave those to the router
            return None
        for m, prefix, handler in self.direct_templates:
            if method == m and path.startswith(prefix) and handler.matches(path):
                return handler
        return None

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


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive` that counts the body and raises BodyTooLarge the moment it passes `limit` bytes."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded


def _internal_error(path: str, rid: str) -> dict[str, Any]:
    return {
        "type": "urn:jinyu:problem:internal_error",
        "title": "服务器内部错误 / Internal server error",
        "status": 500,
        "detail": f"请求未能完成，请凭请求编号 {rid} 联系运维 / the request failed; quote request id {rid}",
        "code": "internal_error",
        "instance": path,
        "request_id": rid,
    }


async def _answer(send: Send, problem: dict[str, Any]) -> None:
    body = json.dumps(problem, ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM), (b"content-length", str(len(body)).encode())]
    if problem["status"] == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": problem["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
