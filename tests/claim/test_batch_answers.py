"""The settlement thread hands a batch's answers to the event loop in one call, and each request still gets
its own answer: a result, an error, or nothing for a client that went away (no database needed)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from jinyu.claim.batcher import _answer_all, _Waiting
from jinyu.claim.service.batch import Job


class _CountingLoop:
    """An event loop's `call_soon_threadsafe`, counted, in front of the real loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.calls = loop, 0

    def call_soon_threadsafe(self, callback: Any, *args: Any) -> None:
        self.calls += 1
        self.loop.call_soon_threadsafe(callback, *args)


def test_a_batch_is_answered_in_one_call_to_its_loop() -> None:
    async def scenario() -> tuple[list[Any], int]:
        loop = asyncio.get_running_loop()
        counting = _CountingLoop(loop)
        futures = [loop.create_future() for _ in range(4)]
        waiting = [_Waiting(Job(None, None, None, 0.0), counting, f) for f in futures]  # type: ignore[arg-type]
        futures[3].cancel()  # its client went away
        refused = ValueError("refused")
        answers = [(waiting[0], "first"), (waiting[1], refused), (waiting[2], "third"), (waiting[3], "gone")]
        thread = threading.Thread(target=_answer_all, args=(answers,))  # as the settlement thread does
        thread.start()
        thread.join()
        done = await asyncio.gather(*futures[:3], return_exceptions=True)
        return [*done, futures[3].cancelled()], counting.calls

    results, calls = asyncio.run(scenario())
    assert results[0] == "first"
    assert isinstance(results[1], ValueError) and str(results[1]) == "refused"
    assert results[2] == "third"
    assert results[3] is True
    assert calls == 1
