"""Tiny ASGI apps for tests/core/test_serving.py, served by `python -m jinyu.serving --app-dir tests/core`."""

from __future__ import annotations

import os
from typing import Any


def make_app() -> Any:
    """Answers every request with the serving worker's pid, so a test can see which process took a connection."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # lifespan: nothing to start
        body = str(os.getpid()).encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def broken_app() -> Any:
    """A factory that always fails, like an app whose settings are wrong: its workers die right at start."""
    raise RuntimeError("this app cannot start")
