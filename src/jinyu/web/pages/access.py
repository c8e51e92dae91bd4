"""Login, logout and the language switch. The login is the API's own (party.login): the same password check,
lockout, throttling and audit trail; the session cookie carries the token it issues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from jinyu.core.errors import JinyuError
from jinyu.core.web import SessionDep
from jinyu.party import service as party
from jinyu.web import i18n
from jinyu.web.render import bilingual, render
from jinyu.web.session import (
    LANG_COOKIE,
    check_csrf,
    clear_session,
    finish,
    secure,
    set_session,
    visitor,
)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only our own console paths: never an open redirect to another site."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console"


@router.get("/")
def root() -> Response:
    return RedirectResponse("/console", status_code=303)


@router.get("/console/login")
def login_page(request: Request, next: str | None = None, expired: bool = False) -> Response:
    seen = visitor(request, None)
    notice = i18n.translate("session_expired", seen.lang) if expired else None
    return render(request, "login.html", seen, next=safe_next(next), username="", notice=notice)


@router.post("/console/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    seen = visitor(request, None)
    username, target = username.strip(), safe_next(next)
    if not check_csrf(request, csrf_token):
        error = i18n.translate("csrf", seen.lang)
        return render(request, "login.html", seen, 403, next=target, username=username, error=error)
    try:
        token = party.login(
            session,
            request.app.state.sessionmaker,
            username,
            password,
            request.app.state.settings,
            client_address=request.client.host if request.client else None,
        )
    except JinyuError as exc:
        error = bilingual(exc.title, seen.lang)
        refused = render(request, "login.html", seen, exc.status, next=target, username=username, error=error)
        refused.headers.update(exc.headers())
        return refused
    response = RedirectResponse(target, status_code=303)
    set_session(response, request, token.access_token, token.expires_in)
    return finish(response, request, seen)


@router.post("/console/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    if check_csrf(request, csrf_token):
        clear_session(response, request)
    return finish(response, request, None)


@router.get("/console/lang")
def switch_language(request: Request, to: str = "zh", next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    lang = to if to in i18n.LANGS else i18n.DEFAULT_LANG
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", secure=secure(request))
    return finish(response, request, None)
