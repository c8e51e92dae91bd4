"""`make demo` walked as newcomers would, in a real browser: the demo prepared in a fresh data dir, served, and
each role logging in with what the demo prints (credentials.json) and doing its main job from the pages alone.
The hospital's and insurer's week is the one `jinyu.demo_hospital` settled through the API; the figures are
hand-computed in tests/test_demo.py (payouts 382,900.00; the lead insurer's book 270,260.00 left)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from jinyu.app import create_app
from jinyu.config import load_settings
from jinyu.demo import prepare
from jinyu.demo_loans import planted_loans
from tests.web.browser.conftest import Live, _free_port
from tests.web.browser.test_console_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-walk")


@pytest.fixture(scope="module")
def live(demo_dir: Path) -> Iterator[Live]:
    """The demo as `make demo` leaves it, served on a free port (the module's `page` fixtures use it)."""
    settings = load_settings(data_dir=demo_dir)
    prepare(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the demo's server did not start"
    yield Live(f"http://127.0.0.1:{port}", {}, "", "")
    server.should_exit = True
    thread.join(timeout=10)


def cred(demo_dir: Path, username: str) -> dict[str, str]:
    creds: list[dict[str, str]] = json.loads((demo_dir / "credentials.json").read_text())
    return next(c for c in creds if c["username"] == username)


def test_hospital_officer_finds_the_week_and_its_reconciliations(page: Any, demo_dir: Path) -> None:
    log_in(page, "hospital", cred(demo_dir, "hospital")["password"])
    assert page.inner_text("#roles") == "医院结算"  # the role named, not its code
    page.click("nav.menu >> text=结算与预付金")
    assert "经 API 即时结算" in page.inner_text("#settlements-intro")
    assert page.locator("#settlements tbody tr").count() == 16
    assert page.locator("#settlements tbody tr[data-status=cancelled]").count() == 1
    assert "¥270,260.00" in page.inner_text("#books") and "¥1,846,840.00" in page.inner_text("#books")
    assert "未设" in page.inner_text("#books")  # the co-insurer's book has no alert line
    assert "¥270,260.00" in page.inner_text("#alerts")
    friday = page.locator("#reconciliations tr[data-run-status=discrepancies]")
    assert "有差异待核实" in friday.inner_text()
    finding = friday.locator("tr[data-finding=amount_mismatch]")
    assert "金额不一致" in finding.inner_text() and "¥23,800.50" in finding.inner_text()
    page.click("#lang-en")
    assert "amounts differ" in page.inner_text("#reconciliations")
    page.click("#lang-zh")


def test_insurer_sees_its_own_book_below_the_line(page: Any, demo_dir: Path) -> None:
    log_in(page, "insurer", cred(demo_dir, "insurer")["password"])
    page.click("nav.menu >> text=结算与预付金")
    assert page.locator("#books tbody tr").count() == 1
    assert "¥270,260.00" in page.inner_text("#books") and "¥300,000.00" in page.inner_text("#books")
    assert page.locator("#alerts tbody tr").count() == 1


def test_regulator_finds_the_hospitals_payouts(page: Any, demo_dir: Path) -> None:
    hospital = cred(demo_dir, "hospital")["organisation"]
    log_in(page, "analyst", cred(demo_dir, "analyst")["password"])
    page.click("nav.menu >> text=理赔统计")
    page.select_option("#by", "hospital")
    page.click("form.filters button[type=submit]")
    assert hospital in page.inner_text("#claims-report")


def test_enterprise_clerk_finds_a_branch_and_grants_its_bank_without_javascript(
    page_without_js: Any, demo_dir: Path
) -> None:
    page = page_without_js
    log_in(page, "enterprise", cred(demo_dir, "enterprise")["password"])
    page.click("nav.menu >> text=数据授权")
    first = page.locator("#grantee optgroup").first
    assert first.get_attribute("data-own") == "true"  # the bank of its accounts first, and named so
    assert (first.get_attribute("label") or "").split(" · ")[0] in page.inner_text("#own-banks")
    page.fill("#bank_q", "渝北")
    page.click("#bank-search-go")
    options = page.locator("#grantee option[data-level='1'], #grantee option[data-level='2']")
    assert options.count() > 0
    assert all("渝北" in t for t in options.all_inner_texts())
    branch = options.first
    bank = branch.locator("xpath=ancestor::optgroup").get_attribute("label") or ""
    page.select_option("#grantee", value=branch.get_attribute("value"))
    page.check("#sections input[value=tax]")
    page.select_option("#purpose", "credit_assessment")
    page.click("#grant")
    row = page.locator("#grants tbody tr").first
    assert bank.split(" · ")[0] in row.inner_text() and "有效" in row.inner_text()
    row.locator("input[name=reason]").fill("测试结束")
    row.locator("button.revoke").click()
    assert "已撤销" in page.locator("#grants tbody tr").first.inner_text()


def test_bank_officer_traces_the_first_planted_loan(page: Any, demo_dir: Path) -> None:
    settings = load_settings(data_dir=demo_dir)
    creds = json.loads((demo_dir / "credentials.json").read_text())
    loans = planted_loans(settings, [(c["username"], c["role"], c["org_id"]) for c in creds])
    loan = next(p for p in loans if p.analysis == "return_flow" and "bank_risk" in p.users)
    log_in(page, "bank_risk", cred(demo_dir, "bank_risk")["password"])
    page.click("nav.menu >> text=贷款资金核查")
    page.fill("#loan_id", loan.loan_id)
    page.click("#check")
    assert "风险" in page.inner_text("#loan-verdict")
