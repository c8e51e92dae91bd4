"""The HTTP edge: request ids, metrics and admission control (503 when the waiting line is full)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from jinyu.core.asgi import Edge, EdgeMetrics


class _Gate:
    """An ASGI app whose /api/ requests wait until released; counts how many ran at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["path"].startswith("/api/"):
            self.running += 1
            self.most = max(self.most, self.running)
            await self.release.wait()
            self.running -= 1
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")


def test_no_more_than_max_inflight_run_at_once_and_the_rest_wait() -> None:
    async def scenario() -> tuple[list[int], int]:
        gate = _Gate()
        edge = Edge(gate, EdgeMetrics(), max_inflight=2, max_queued=10)
        async with _client(edge) as c:
            calls = [asyncio.create_task(c.get("/api/v1/x")) for _ in range(5)]
            await asyncio.sleep(0.05)
            gate.release.set()
            answers = await asyncio.gather(*calls)
        return [r.status_code for r in answers], gate.most

    statuses, most = asyncio.run(scenario())
    assert statuses == [200] * 5
    assert most == 2


def test_a_full_waiting_line_answers_503_problem_with_retry_after() -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        gate = _Gate()
        metrics = EdgeMetrics()
        edge = Edge(gate, metrics, max_inflight=1, max_queued=0)
        async with _client(edge) as c:
            first = asyncio.create_task(c.get("/api/v1/x"))
            await asyncio.sleep(0.05)
            refused = await c.get("/api/v1/y")
            health = await c.get("/healthz")  # never limited
            gate.release.set()
            return await first, refused, health

    first, refused, health = asyncio.run(scenario())
    assert first.status_code == 200 and health.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "overloaded"


@pytest.mark.parametrize("given", [None, "abc-123"])
def test_every_answer_carries_a_request_id(given: str | None) -> None:
    async def scenario() -> httpx.Response:
        gate = _Gate()
        gate.release.set()
        async with _client(Edge(gate, EdgeMetrics(), max_inflight=4, max_queued=4)) as c:
            headers = {"X-Request-ID": given} if given else {}
            return await c.get("/api/v1/x", headers=headers)

    answer = asyncio.run(scenario())
    rid = answer.headers["x-request-id"]
    assert rid == given if given else len(rid) == 32


def test_heavy_requests_have_their_own_line_and_never_hold_up_short_ones() -> None:
    async def scenario() -> tuple[list[int], int, list[int]]:
        gate = _Gate()
        heavy = (("POST", "/api/v1/risk/batches"),)
        edge = Edge(gate, EdgeMetrics(), max_inflight=2, max_queued=0, max_heavy=1, heavy=heavy)
        async with _client(edge) as c:
            batch = asyncio.create_task(c.post("/api/v1/risk/batches"))
            await asyncio.sleep(0.05)
            second_batch = await c.post("/api/v1/risk/batches")  # its line is full and may not queue: 503
            shorts = [asyncio.create_task(c.get("/api/v1/claims/settlements/x")) for _ in range(2)]
            await asyncio.sleep(0.05)
            running_with_batch = gate.running  # the batch and both short requests at once
            gate.release.set()
            answers = await asyncio.gather(batch, *shorts)
        return [r.status_code for r in answers], running_with_batch, [second_batch.status_code]

    statuses, running, refused = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert running == 3
    assert refused == [503]


def test_the_app_sends_uploads_batches_and_chain_walks_to_the_heavy_line() -> None:
    from jinyu.app import HEAVY_ROUTES

    edge = Edge(_Gate(), EdgeMetrics(), max_inflight=8, max_queued=8, heavy=HEAVY_ROUTES)

    def lane(method: str, path: str) -> str | None:
        found = edge.lane_of({"type": "http", "method": method, "path": path})
        return None if found is None else found.name

    assert lane("POST", "/api/v1/ingest/transfers") == "heavy"
    assert lane("POST", "/api/v1/risk/batches") == "heavy"
    assert lane("GET", "/api/v1/audit/verify") == "heavy"
    assert lane("POST", "/api/v1/claims/settlements") == "api"
    assert lane("GET", "/api/v1/ingest/loads") == "api"
    assert lane("GET", "/healthz") is None


def test_the_app_sends_instant_settlements_to_the_batched_line() -> None:
    from jinyu.app import BATCHED_ROUTES, HEAVY_ROUTES

    edge = Edge(
        _Gate(), EdgeMetrics(), max_inflight=8, max_queued=8, heavy=HEAVY_ROUTES, batched=BATCHED_ROUTES
    )

    def lane(method: str, path: str) -> str | None:
        found = edge.lane_of({"type": "http", "method": method, "path": path})
        return None if found is None else found.name

    assert lane("POST", "/api/v1/claims/settlements") == "batched"
    assert lane("GET", "/api/v1/claims/settlements") == "api"  # listing them is an ordinary request
    assert lane("POST", "/api/v1/claims/settlements/x/cancel") == "api"
    assert edge.lanes["batched"].size == 256
