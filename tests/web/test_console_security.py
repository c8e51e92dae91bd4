"""The console's protections as a browser meets them: cookies, CSRF, CSP, the API's lockout, no open redirect,
and the offline API docs."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login, csrf_of


@pytest.fixture
def analyst(session: Session) -> str:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    session.commit()
    return user.username


def test_root_opens_the_console(client: TestClient) -> None:
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/console"


def test_session_cookie_is_httponly_and_samesite(client: TestClient, analyst: str) -> None:
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"username": analyst, "password": "Correct-Horse-42x", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("jinyu_session="))
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here; Secure is set when served over TLS


def test_pages_carry_a_strict_csp(client: TestClient, analyst: str) -> None:
    console_login(client, analyst)
    resp = client.get("/console")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["cache-control"] == "no-store"
    assert "<script" not in resp.text and " style=" not in resp.text  # nothing the policy would block


def test_forms_without_the_csrf_token_are_refused(client: TestClient, analyst: str) -> None:
    client.get("/console/login")
    resp = client.post("/console/login", data={"username": analyst, "password": "Correct-Horse-42x"})
    assert resp.status_code == 403
    assert "jinyu_session" not in resp.cookies
    console_login(client, analyst)
    forged = client.post("/console/audit/verify", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert 'id="verdict"' not in forged.text


def test_a_token_from_another_browser_does_not_pass(client: TestClient, analyst: str) -> None:
    """The token is bound to the browser's seed cookie and to its session."""
    console_login(client, analyst)
    token = csrf_of(client.get("/console/audit").text)
    console_login(client, analyst)  # a new browser: new seed, new session
    assert client.post("/console/audit/verify", data={"csrf_token": token}).status_code == 403
    fresh = csrf_of(client.get("/console/audit").text)
    resp = client.post("/console/audit/verify", data={"csrf_token": fresh})
    assert resp.status_code == 200 and 'id="verdict"' in resp.text


def test_failed_logins_lock_the_account_as_the_api_does(client: TestClient, analyst: str) -> None:
    """The test settings lock after 3 failures; the console's attempts count, and the API sees the lock."""
    statuses = []
    for _ in range(4):
        page = client.get("/console/login")
        resp = client.post(
            "/console/login",
            data={"username": analyst, "password": "wrong-password-1", "csrf_token": csrf_of(page.text)},
        )
        statuses.append(resp.status_code)
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    assert "retry-after" in resp.headers
    api = client.post("/api/v1/auth/token", data={"username": analyst, "password": "Correct-Horse-42x"})
    assert api.status_code == 429


def test_login_never_redirects_off_the_console(client: TestClient, analyst: str) -> None:
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={
            "username": analyst,
            "password": "Correct-Horse-42x",
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/console",
        },
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/console"


def test_logout_ends_the_session(client: TestClient, analyst: str) -> None:
    console_login(client, analyst)
    token = csrf_of(client.get("/console").text)
    client.post("/console/logout", data={"csrf_token": token})
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_an_expired_or_forged_session_goes_back_to_the_login(client: TestClient) -> None:
    client.cookies.set("jinyu_session", "not-a-token")
    resp = client.get("/console/audit", follow_redirects=False)
    assert resp.status_code == 303 and "expired=1" in resp.headers["location"]


def test_bad_input_is_a_page_with_the_field(client: TestClient, analyst: str) -> None:
    console_login(client, analyst)
    resp = client.get("/console/risk", params={"from_month": "banana"})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("text/html")
    assert "from_month" in resp.text and "YYYY-MM" in resp.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_elsewhere(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    urls = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', resp.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_an_unknown_console_address_is_a_page(client: TestClient) -> None:
    resp = client.get("/console/no-such-page")
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing")
    assert api.headers["content-type"].startswith("application/problem+json")
