"""Browser tests: the console served by uvicorn on a local port, driven by Playwright in Debian's Chromium.

`make browser-deps` installs Chromium (apt). Without it or without Playwright the tests are skipped, loudly:
under JINYU_REQUIRE_SUITES=...,browser (.ci/run) a skipped browser test fails the run. Screenshots of each
flow's last page go to JINYU_BROWSER_ARTIFACTS (default var/test-artifacts/browser)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Lake
from jinyu.app import create_app
from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.models import metadata
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut
from jinyu.party.service.registration import person_token
from jinyu.risk.inquiries import record_inquiry
from tests.claim.factories import world
from tests.credit import region
from tests.fixtures.auth import make_org, make_user, principal, resident_id
from tests.risk.tracing.lake import golden_rows, write

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    configured = os.environ.get("JINYU_CHROMIUM")
    if configured:
        return configured
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@dataclass(frozen=True)
class Live:
    url: str
    users: dict[str, str]  # flow name → username (password: tests.fixtures.auth.PASSWORD)
    bank_name: str
    card_uscc: (
        str  # the enterprise of the registration flow: its card data is in the lake (tests/credit/region)
    )
    bank_id: str = ""  # the bank of users["bank"] (financing demands name it as the preferred bank)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _registry_enterprise(session: Session, pseudonym_key: bytes) -> OrgOut:
    """An enterprise as the registry knows it, its representative's keyed token included: a registration with
    the matching ID verifies at once (party.registration), as it does for a real registry record."""
    token = person_token(pseudonym_key, resident_id(seq=321))
    record = party.RegistryOrg(
        OrgKind.ENTERPRISE, region.E1, "重庆甲乙科技有限公司", uscc=region.E1, legal_rep_token=token
    )
    party.upsert_registry_orgs(session, SYSTEM, [record])
    org = party.find_enterprise(session, region.E1)
    assert org is not None
    return org


def _seed(factory: sessionmaker[Session], pseudonym_key: bytes) -> tuple[dict[str, str], OrgOut]:
    with factory() as session:
        claims = world(session, deposit="2500000.00")
        # code H1: the head office of the golden tracing region's lending branch (loan L1's return flow)
        bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="渝州银行", code="H1")
        users = {
            "regulator": make_user(
                session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST
            ).username,
            "bank": make_user(session, bank, Role.BANK_HQ_RISK).username,
            "enterprise": make_user(
                session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN
            ).username,
            "hospital": make_user(session, claims.hospital, Role.HOSPITAL_SYSTEM).username,
            "registering": make_user(
                session, _registry_enterprise(session, pseudonym_key), Role.ENTERPRISE_ADMIN
            ).username,
            # an enterprise whose representative the registry does not know: its registration waits for review
            "unmatched": make_user(
                session,
                make_org(session, OrgKind.ENTERPRISE, name="重庆待审科技有限公司"),
                Role.ENTERPRISE_ADMIN,
            ).username,
            "supervisor": make_user(
                session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR
            ).username,
        }
        # one risky return-flow inquiry of the bank: the regulator's risk page has a bar to chart
        record_inquiry(
            session,
            principal(session, bank, Role.BANK_HQ_RISK),
            kind="return_flow",
            subject="LN-SEEDED",
            verdict="risky",
            risky=True,
            risky_amount=Decimal("1234567.80"),
        )
        session.commit()
    return users, bank


@pytest.fixture(scope="module")
def live(sqlite_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    factory = sessionmaker(bind=sqlite_engine, expire_on_commit=False)
    settings = load_settings(data_dir=tmp_path_factory.mktemp("console"), login_max_failures=5)
    users, bank = _seed(factory, settings.key("pseudonym_key"))
    region.load(settings.lake_dir)
    write(Lake(settings.lake_dir), golden_rows(), load_id="L2")  # the bank's loans and their money's paths
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, factory=factory), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console's server did not start"
    yield Live(f"http://127.0.0.1:{port}", users, bank.name, region.E1, bank.id)
    server.should_exit = True
    thread.join(timeout=10)
    with sqlite_engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (uv sync --group dev) / 未安装 Playwright")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium not found: run `make browser-deps` / 未找到 Chromium")
    with sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # root (CI containers) cannot use the sandbox
        chromium = p.chromium.launch(executable_path=executable, args=args)
        yield chromium
        chromium.close()


def _note_csp(message: str, problems: list[str]) -> None:
    """A CSP refusal of our own page's content (an inline script or style) is a fault of the console. ReDoc's
    bundle names one image on its vendor's site (a footer logo): the policy blocks it, which is the point, that
    refusal is expected and not failed."""
    if "Content Security Policy" not in message:
        return
    if "https://cdn.redoc.ly/" in message and "blocked" in message:
        return
    problems.append(message)


@pytest.fixture
def page(browser: Any, live: Live, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context per test; requests anywhere but the app are refused and recorded, and so are
    Content-Security-Policy violations; a screenshot of the last page is kept."""
    yield from _tab(browser, live, request.node.name, javascript=True)


@pytest.fixture
def page_without_js(browser: Any, live: Live, request: pytest.FixtureRequest) -> Iterator[Any]:
    """As `page`, with JavaScript switched off in the browser (a visitor whose browser runs no scripts)."""
    yield from _tab(browser, live, f"{request.node.name}-nojs", javascript=False)


def _tab(browser: Any, live: Live, name: str, *, javascript: bool) -> Iterator[Any]:
    context = browser.new_context(base_url=live.url, locale="zh-CN", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    outside: list[str] = []
    problems: list[str] = []

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    tab = context.new_page()
    tab.on("console", lambda m: _note_csp(m.text, problems))
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    folder = Path(os.environ.get("JINYU_BROWSER_ARTIFACTS", "var/test-artifacts/browser"))
    folder.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(folder / f"{name}.png"))
    context.close()
    assert not outside, f"the page asked for something outside the app: {outside}"
    assert not problems, f"script errors or CSP violations: {problems}"
