"""POST /api/v1/claims/settlements as a plain ASGI handler, mounted by the app's edge (`core.asgi.Edge.direct`).

Why: in a server process under settlement load, FastAPI's routing (every route is matched in turn), dependency
solving and response handling took about 60 % of the Python time — on the same GIL as the settlement thread.
This handler does what the FastAPI route (`endpoints.settle`, still there for the API description) does, in
the same order and with the same answers: authenticate (a known API key without the database), check
`claim.settle`, validate the body as `SettleIn`, hand the discharge to the process's settlement thread, answer
201 (or 200 and `Idempotent-Replayed: true`). Errors go through the app's own exception handlers, chosen by the
error's class as the framework chooses them, so the problem+json documents, refusal audits and headers
(`Retry-After` of a lost database connection included) are those of every other route.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from jinyu.claim.endpoints import PATH, answer, batcher_of, key_of
from jinyu.claim.schemas import SettleIn
from jinyu.core.auth import Perm
from jinyu.core.direct import answer_error
from jinyu.core.web import principal_without_session


class SettleRoute:
    """The ASGI handler; `path` is the full path it serves (for metrics and audits, like a route's)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._route = SimpleNamespace(path=path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self._route
        request = Request(scope, receive)
        try:
            # Who, and may they; then what: the order of FastAPI's dependencies and body validation.
            principal = await principal_without_session(request)
            principal.require(Perm.CLAIM_SETTLE)
            data = _settle_in(await request.body())
            settled = await batcher_of(request).settle(principal, data, key_of(request))
            response: Any = answer(settled)
        except Exception as exc:
            response = await answer_error(request, exc)  # the app's handlers, as for any route
        await response(scope, receive, send)


def _settle_in(body: bytes) -> SettleIn:
    """The body as FastAPI would validate it: errors located under `body`, as its own are."""
    try:
        return SettleIn.model_validate_json(body or b"null")
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=body) from exc


__all__ = ["PATH", "SettleRoute"]
