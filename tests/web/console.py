"""Helpers of the console tests: log in through the login form as a browser would, read a form's CSRF token."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.auth import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def console_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """A fresh browser: no cookies, the login page, then its form."""
    client.cookies.clear()
    page = client.get("/console/login")
    assert page.status_code == 200
    resp = client.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/console",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text


CHART_DATA = re.compile(r'<script type="application/json" class="chart-data">(.*?)</script>', re.S)


def charts_of(html: str) -> list[dict[str, Any]]:
    """The data of each chart on a page (what static/charts.js hands to ECharts), in page order."""
    return [json.loads(m) for m in CHART_DATA.findall(html)]
