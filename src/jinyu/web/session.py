"""The console's session and its protections.

- The session cookie holds the API's own bearer token (party.login issued it): the same expiry, lockout and
  revocation as the API. HttpOnly, SameSite=Strict, Secure when the console is served over TLS. A page asked
  for when the token is near its expiry answers with a renewed one (party.renew_session: a sliding session,
  within its maximum length; an expired or revoked token is never renewed).
- CSRF: a random value in a second cookie; every form carries HMAC(signing key, that value + session id), so a
  form is good only for the browser and the session it was rendered for (a signed double-submit token). The
  session id (the token's "sid") survives renewals: a form rendered before one still posts after it.
- The pages' headers: a strict Content-Security-Policy (scripts and styles from the app only, no inline
  script, no frames), no caching of pages, no sniffing, no referrer outside the site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from jinyu.config import Settings
from jinyu.core.auth import Principal
from jinyu.core.errors import JinyuError
from jinyu.core.web import SessionDep
from jinyu.party import service as party

SESSION_COOKIE = "jinyu_session"
CSRF_COOKIE = "jinyu_csrf"
LANG_COOKIE = "jinyu_lang"
CSRF_FIELD = "csrf_token"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Swagger UI and ReDoc set styles inline and ReDoc runs a worker from a blob: still nothing from elsewhere.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class LoginRequired(Exception):
    """No session, or its token no longer works: the console answers with a redirect to the login page."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a page: the principal (None on the login page), the language and the CSRF value."""

    principal: Principal | None
    lang: str
    csrf_seed: str
    new_seed: bool
    token: str

    @property
    def csrf_token(self) -> str:
        return csrf_for(self.csrf_seed, self.token, self._key)

    _key: bytes = b""


def csrf_for(seed: str, token: str, key: bytes) -> str:
    binding = party.session_of(token) if token else ""
    return hmac.new(key, f"{seed}|{binding}".encode(), hashlib.sha256).hexdigest()


def visitor(request: Request, principal: Principal | None) -> Visitor:
    settings: Settings = request.app.state.settings
    seed = request.cookies.get(CSRF_COOKIE, "")
    new = len(seed) < 32
    if new:
        seed = secrets.token_urlsafe(32)
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return Visitor(
        principal=principal,
        lang=lang if lang in ("zh", "en") else "zh",
        csrf_seed=seed,
        new_seed=new,
        token=request.cookies.get(SESSION_COOKIE, ""),
        _key=settings.key("signing_key"),
    )


def check_csrf(request: Request, sent: str) -> bool:
    """The form's token matches this browser's seed and session (constant-time)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) < 32 or not sent:
        return False
    key = request.app.state.settings.key("signing_key")
    expected = csrf_for(seed, request.cookies.get(SESSION_COOKIE, ""), key)
    return hmac.compare_digest(expected, sent)


def page_principal(request: Request, session: SessionDep) -> Principal:
    """The caller of a console page, from the session cookie (LoginRequired without a working one)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        principal = party.authenticate_token(session, token, request.app.state.settings)
    except JinyuError as exc:
        if exc.status == 401:
            raise LoginRequired(expired=True) from None
        raise
    request.state.principal = principal  # refusals are audited for it, as the API's are
    renewed = party.renew_session(session, request.app.state.sessionmaker, token, request.app.state.settings)
    if renewed is not None:  # `finish` puts it in the answer's cookie
        request.state.renewed_session = renewed
    return principal


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="strict", secure=secure(request)
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure(request))


def finish(response: Response, request: Request, seen: Visitor | None, csp: str = PAGE_CSP) -> Response:
    """Security headers on a console answer, and the CSRF seed cookie when this visit made one."""
    response.headers.update(PAGE_HEADERS)
    response.headers["Content-Security-Policy"] = csp
    renewed = getattr(request.state, "renewed_session", None)
    cookies = response.headers.getlist("set-cookie")
    if renewed is not None and not any(c.startswith(f"{SESSION_COOKIE}=") for c in cookies):
        set_session(response, request, renewed.access_token, renewed.expires_in)
    if seen is not None and seen.new_seed:
        response.set_cookie(
            CSRF_COOKIE, seen.csrf_seed, httponly=True, samesite="strict", secure=secure(request)
        )
    return response
