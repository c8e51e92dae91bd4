"""The template of the route that answered a request, for the audits of refusals and of 401s."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts

_LOCK = threading.Lock()


def route_template(request: Request) -> str | None:
    """The full template of the route that answered (`/api/v1/risk/loans/{loan_id}/misuse`), or None. Why not
    the scope's route alone: FastAPI puts an included router's own route there, whose path lacks the prefixes
    it was included under (`/loans/{loan_id}/misuse`); the router's resolved routes name each route object's
    full template (collected once per app, on first use: only refusals and 401s ask, off the event loop)."""
    route = request.scope.get("route")
    if route is None:
        return None
    full = _templates(request.app).get(id(route))
    return full if full is not None else getattr(route, "path", None)


def _templates(app: FastAPI) -> dict[int, str]:
    found: dict[int, str] | None = getattr(app.state, "route_templates", None)
    if found is None:
        with _LOCK:
            found = getattr(app.state, "route_templates", None)
            if found is None:
                found = {}
                for context in iter_route_contexts(app.router.routes):
                    if context.path_format is not None:
                        found.setdefault(id(context.original_route), context.path_format)
                app.state.route_templates = found
    return found
