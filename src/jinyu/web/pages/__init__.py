"""The console's page routes, one module per group of pages; `router` gathers them."""

from fastapi import APIRouter

from jinyu.web.pages import (
    access,
    bank,
    claims,
    consents,
    enterprise,
    joint,
    loans,
    orders,
    overview,
    regulator,
    review,
    statements,
    supervision,
)

router = APIRouter(include_in_schema=False)
for module in (
    access,
    overview,
    regulator,
    claims,
    consents,
    bank,
    enterprise,
    review,
    loans,
    statements,
    supervision,
    orders,
    joint,
):
    router.include_router(module.router)

__all__ = ["router"]
