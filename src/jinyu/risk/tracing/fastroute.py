"""GET /api/v1/risk/loans/{loan_id}/return-flow and /misuse as plain ASGI handlers, mounted by the app's edge
(`core.asgi.Edge`, a direct route by path template).

Why: a one-loan check is a few milliseconds of work in one worker-thread trip; around it, on the event loop,
FastAPI matched every route of the app in turn and solved the route's dependencies (issue 19, h-bt: py-spy).
This handler does what the FastAPI route (`endpoints.get_return_flow` / `get_misuse`, still there for the API
description and for every request this one does not take) does, in the same order, with the same answers:

1. the request's session (`core.web.db_session` itself, entered as the framework enters it: commit or close
   when the work is done, roll back on any error, before the answer is sent);
2. the caller: the route's own permission dependency (`core.onetrip.require_in_trip(Perm.RISK_QUERY)`), so
   401 and 403 come before a 422, as there;
3. the path's `loan_id` and the query's `TraceParams`, validated by the framework's own functions on the
   route's own declared parameters (`request_params_to_args` on `APIRoute.dependant`): the same values and the
   same errors, path errors first (a `RequestValidationError`, answered 422 by the app's handler);
4. `endpoints.one_loan`: the caller's check, the trace, inquiry, audit and commit, and the JSON, in one trip.

The scope carries the route object, endpoint and path parameters the router would have set (metrics, the
access log, refusal audits and the 401 trail name the route's template). Errors go through the app's own
exception handlers (`core.direct.answer_error`), so problem+json documents, refusal audits and headers are
those of the FastAPI route (`tests/risk/tracing/test_fastroute.py` compares them byte for byte).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.types import Receive, Scope, Send

from jinyu.core.auth import Perm
from jinyu.core.direct import answer_error
from jinyu.core.onetrip import Caller, require_in_trip
from jinyu.core.web import db_session
from jinyu.risk.tracing import service
from jinyu.risk.tracing.endpoints import OneLoanCheck, one_loan

LOANS = "/risk/loans/"
# The service function of each check, by name: looked up per request, as the FastAPI routes do.
CHECKS = {"return-flow": "return_flow", "misuse": "misuse"}
_session = asynccontextmanager(db_session)


class OneLoanRoute:
    """The ASGI handler of `GET {api}/risk/loans/{loan_id}/{check}`; `prefix` is `{api}/risk/loans/`."""

    def __init__(self, prefix: str, check: str) -> None:
        self.prefix, self.suffix = prefix, f"/{check}"
        self.template = f"{prefix}{{loan_id}}{self.suffix}"
        self.check_name = CHECKS[check]
        self._caller = require_in_trip(Perm.RISK_QUERY).dependency
        self._route: RouteContext | None = None

    def matches(self, path: str) -> bool:
        """The router's match of the template: one non-empty segment between prefix and suffix."""
        if not (path.startswith(self.prefix) and path.endswith(self.suffix)):
            return False
        loan_id = path[len(self.prefix) : -len(self.suffix)]
        return bool(loan_id) and "/" not in loan_id

    def route_of(self, app: FastAPI) -> RouteContext:
        """The app's own GET route of this template, as its router resolves it (found once): the effective
        route (its full path, parameters and endpoint) and the original route object the router puts in the
        scope."""
        if self._route is None:
            found = [
                r
                for r in iter_route_contexts(app.router.routes)
                if isinstance(r.original_route, APIRoute)
                and r.path_format == self.template
                and "GET" in (r.methods or ())
            ]
            if len(found) != 1:
                raise RuntimeError(f"direct route {self.template}: {len(found)} GET routes in the app")
            route = found[0]
            # Only what this handler validates: a parameter added to the route must be added here too.
            declared = route.dependant
            if declared.header_params or declared.cookie_params or declared.body_params:
                raise RuntimeError(f"direct route {self.template}: parameters this handler does not read")
            self._route = route
        return self._route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app: FastAPI = scope["app"]
        route = self.route_of(app)
        path = str(scope["path"])
        # What the router sets on a match (Route.matches), read by metrics, the access log and refusal audits.
        scope["route"], scope["endpoint"] = route.original_route, route.endpoint
        scope["path_params"] = {"loan_id": path[len(self.prefix) : -len(self.suffix)]}
        request = Request(scope, receive, send)
        response: Any
        try:
            response = await self._answer(request, route)
        except Exception as exc:
            response = await answer_error(request, exc)
        await response(scope, receive, send)

    async def _answer(self, request: Request, route: RouteContext) -> Any:
        async with _session(request) as session:
            caller: Caller = await self._caller(request, session)
            declared = route.dependant
            path_values, path_errors = request_params_to_args(declared.path_params, request.path_params)
            query_values, query_errors = request_params_to_args(declared.query_params, request.query_params)
            errors = path_errors + query_errors
            if errors:
                raise RequestValidationError(errors, body=None)
            loan_id, params = path_values["loan_id"], query_values["params"]
            check: OneLoanCheck = getattr(service, self.check_name)
            return await one_loan(request, session, caller, loan_id, params, check)
