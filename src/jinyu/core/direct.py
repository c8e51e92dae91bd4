"""What a plain ASGI handler mounted by `core.asgi.Edge` needs to answer as the framework's route would.

A route served without FastAPI's routing (see `claim.fastroute`, `risk.tracing.fastroute`) must still answer
its errors through the app's own exception handlers, chosen as Starlette's exception handling chooses them:
for an `HTTPException` a handler registered for its status code first, then the first of the error's classes
with a handler, leaving `Exception` (a server error: re-raised, answered 500 and logged by the edge). A
handler that fails in turn gets a second chance, as the framework's exception middleware gives a route's.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException


async def answer_error(request: Request, exc: Exception) -> Any:
    """The app's answer to `exc` (a Response), or `exc` (or the handler's own failure) re-raised."""
    try:
        return await _handled(request, exc)
    except Exception as again:  # e.g. a refusal's audit losing its connection
        return await _handled(request, again)


async def _handled(request: Request, exc: Exception) -> Any:
    handler = handler_of(request, exc)
    if handler is None:
        raise exc  # the server-error handling, as for any route
    if is_async_callable(handler):
        return await handler(request, exc)
    return await run_in_threadpool(handler, request, exc)


def handler_of(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    found = (handlers[cls] for cls in type(exc).__mro__ if cls in handlers and cls is not Exception)
    return next(found, None)
