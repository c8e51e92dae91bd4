"""Walk every API operation's response model down to its fields (the names protect() looks up)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from jinyu.core.auth import ROLE_PERMISSIONS
from jinyu.core.web import declared_permission


def response_models(app: FastAPI) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    for route in _api_routes(app.routes):
        if route.response_model is not None:
            _collect(route.response_model, found)
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every API route, including those of included routers (FastAPI keeps them behind the original router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(inner.routes)


def _collect(annotation: object, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for info in annotation.model_fields.values():
            _collect(info.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _collect(arg, found)


def schema_name(model: type[BaseModel]) -> str:
    """The name protect() uses: a generic Page[AccountOut] is 'Page'."""
    return model.__name__.split("[")[0]


def fields(app: FastAPI) -> Iterator[tuple[type[BaseModel], str]]:
    for model in sorted(response_models(app), key=lambda m: m.__name__):
        for name in model.model_fields:
            yield model, name


def readers(app: FastAPI) -> dict[tuple[type[BaseModel], str], set[str]]:
    """Each response field with the roles that may call some operation answering it (its declared
    permission); operations with no declared permission count for every role."""
    out: dict[tuple[type[BaseModel], str], set[str]] = {}
    for route in _api_routes(app.routes):
        if route.response_model is None:
            continue
        perms = {declared_permission(d.call) for d in route.dependant.dependencies if d.call} - {None}
        roles = {
            role.value
            for role, granted in ROLE_PERMISSIONS.items()
            if all(p in {g.name.lower() for g in granted} for p in perms)
        }
        models: set[type[BaseModel]] = set()
        _collect(route.response_model, models)
        for model in models:
            for name in model.model_fields:
                out.setdefault((model, name), set()).update(roles)
    return out
