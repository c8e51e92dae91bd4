"""Mounting the console on the API's app, and how its errors are answered (pages, not problem documents)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, RedirectResponse, Response

from jinyu.core.errors import JinyuError
from jinyu.web import docs, i18n
from jinyu.web.pages import router as pages
from jinyu.web.render import bilingual, render
from jinyu.web.session import LoginRequired, finish, visitor

STATIC = Path(__file__).parent / "static"
CONSOLE = "/console"
# Front-end packages from npm, installed into the checkout by `make bootstrap` (npm ci on package-lock.json):
# the app serves the files it needs from there; nothing is fetched at run time.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
VENDOR = {"echarts.min.js": NODE_MODULES / "echarts" / "dist" / "echarts.min.js"}
log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """The console's pages, its static files, and the offline /docs and /redoc."""
    app.mount(f"{CONSOLE}/static", StaticFiles(directory=STATIC), name="console-static")
    _serve_vendor(app)
    docs.mount_assets(app)
    app.include_router(docs.router)
    app.include_router(pages)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        where = f"{CONSOLE}/login?next={quote(target, safe='')}" + ("&expired=1" if exc.expired else "")
        return finish(RedirectResponse(where, status_code=303), request, None)


def _serve_vendor(app: FastAPI) -> None:
    """`/console/vendor/<name>` for each packaged file; a missing one (npm ci not run) leaves the charts' tables
    as the pages' only figures, and says so in the log once."""
    for path in VENDOR.values():
        if not path.is_file():
            log.warning("console asset missing, run `make bootstrap` / 缺少前端文件: %s", path)

    @app.get(f"{CONSOLE}/vendor/{{name}}", include_in_schema=False)
    def vendor(name: str) -> Response:
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type="text/javascript", headers={"X-Content-Type-Options": "nosniff"})


def is_console_path(path: str) -> bool:
    return path == "/" or path == CONSOLE or path.startswith(f"{CONSOLE}/")


def render_error(request: Request, status: int, detail: str) -> Response:
    """An error on a console page as a page in the visitor's language (the API answers problem+json)."""
    seen = visitor(request, getattr(request.state, "principal", None))
    key = {403: "forbidden", 404: "not_found"}.get(status, "error")
    heading = i18n.translate(key, seen.lang)
    return render(request, "error.html", seen, status, heading=heading, message=bilingual(detail, seen.lang))


def render_domain_error(request: Request, exc: JinyuError) -> Response:
    detail = exc.detail or exc.title
    if exc.fields:
        detail = "; ".join(f"{f.field}: {f.message}" for f in exc.fields)
    response = render_error(request, exc.status, detail)
    response.headers.update(exc.headers())
    return response
