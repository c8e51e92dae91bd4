"""The template of the route that answered a request, for the audits of refusals and of 401s."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from starlette.routing import compile_path


def route_template(request: Request, api: str) -> str | None:
    """The full template of the route that answered (`/api/v1/risk/loans/{loan_id}/misuse`), or None. Why not
    the scope's route alone: FastAPI puts an included router's own route there, whose path lacks the prefixes
    it was included under (`/loans/{loan_id}/misuse`), so a path under `api` is matched against the API
    description's templates (compiled once per app; only refusals and 401s ask)."""
    path = getattr(request.scope.get("route"), "path", None)
    if not isinstance(path, str) or path.startswith(api) or not request.url.path.startswith(api):
        return path
    for regex, template in _api_templates(request.app, api):
        if template.endswith(path) and regex.match(request.url.path):
            return template
    return api + path


def _api_templates(app: FastAPI, api: str) -> list[tuple[re.Pattern[str], str]]:
    compiled: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "api_templates", None)
    if compiled is None:
        compiled = [(compile_path(t)[0], t) for t in app.openapi().get("paths", {}) if t.startswith(api)]
        app.state.api_templates = compiled
    return compiled
