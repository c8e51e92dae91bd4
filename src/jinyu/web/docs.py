"""The API's documentation pages, served whole by the app: Swagger UI at /docs and ReDoc at /redoc, with their
scripts and styles from the `fastapi-offline` package (nothing from a CDN, so they work on a closed network).

The pages are our own small templates: their start-up script is a file of ours, not inline, so the
Content-Security-Policy can forbid inline scripts here too."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

from jinyu.web.render import ENV
from jinyu.web.session import DOCS_CSP, finish

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static/docs"

router = APIRouter(include_in_schema=False)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")


def _page(request: Request, template: str) -> Response:
    html = ENV.get_template(template).render(
        openapi_url=request.app.openapi_url, assets=ASSETS_URL, title=request.app.title
    )
    return finish(HTMLResponse(html), request, None, csp=DOCS_CSP)


@router.get("/docs")
def swagger(request: Request) -> Response:
    return _page(request, "docs_swagger.html")


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return _page(request, "docs_redoc.html")
