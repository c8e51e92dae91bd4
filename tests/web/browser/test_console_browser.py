"""Login and one main flow per role, in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.auth import PASSWORD, resident_id
from tests.web.browser.conftest import Live

pytestmark = pytest.mark.browser


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_selector("#whoami")


def test_wrong_password_says_so_in_chinese(page: Any, live: Live) -> None:
    page.goto("/console/risk")  # no session: to the login page, then back to where the visitor was going
    page.fill("#username", live.users["regulator"])
    page.fill("#password", "not-the-password")
    page.click("#login")
    assert "用户名或密码错误" in page.inner_text(".error")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#whoami")
    assert page.url.endswith("/console/risk")


def test_regulator_reads_figures_and_verifies_the_audit_chain(page: Any, live: Live) -> None:
    log_in(page, live.users["regulator"])
    assert page.locator("[data-tile=claims_paid]").count() == 1
    page.click("nav.menu >> text=资金流风险")
    # the bar chart drawn by ECharts (served by the app) from the page's JSON data; its table folded once drawn
    page.wait_for_selector("figure.chart-box.drawn .echart canvas")
    assert "¥1,234,567.80" in page.inner_text("#risk-stats")
    assert page.locator("figure.chart-box details.chart-table[open]").count() == 0
    page.fill("input[name=from_month]", "2026-13")  # the browser's own pattern check refuses it first
    assert page.evaluate("document.querySelector('input[name=from_month]').validity.valid") is False
    page.click("nav.menu >> text=审计")
    page.click("#verify")
    assert "校验通过" in page.inner_text("#verdict")
    assert page.locator("#audit-entries tbody tr").count() > 0
    page.click("#lang-en")
    assert "Verify the chain" in page.inner_text("#verify")


def test_enterprise_grants_a_bank_and_revokes(page: Any, live: Live) -> None:
    log_in(page, live.users["enterprise"])
    page.click("nav.menu >> text=数据授权")
    page.select_option("#grantee", label=live.bank_name)
    page.check("input[name=scopes][value=statements]")
    page.select_option("#purpose", "statement_verification")
    page.click("#grant")
    row = page.locator("#grants tbody tr").first
    assert live.bank_name in row.inner_text() and "有效" in row.inner_text()
    row.locator("input[name=reason]").fill("合作结束")
    row.locator("button.revoke").click()
    assert "已撤销" in page.locator("#grants tbody tr").first.inner_text()


def test_bank_checks_a_loan(page: Any, live: Live) -> None:
    log_in(page, live.users["bank"])
    page.click("nav.menu >> text=贷款资金核查")
    page.fill("#loan_id", "LN-NOT-THERE")
    page.click("#check")
    assert page.locator("h1").inner_text() in ("未找到，或不属于您的机构", "出错了")


def test_hospital_sees_its_prepaid_balance(page: Any, live: Live) -> None:
    log_in(page, live.users["hospital"])
    page.click("nav.menu >> text=结算与预付金")
    assert "¥2,500,000.00" in page.inner_text("#books")
    page.click("#logout")
    page.wait_for_selector("#login-form")


def test_api_docs_work_offline(page: Any) -> None:
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Jinyu" in page.inner_text(".swagger-ui .info .title")
    page.goto(
        "/redoc"
    )  # its script loads from the app (rendering the whole document takes long: not waited for)
    page.wait_for_function("window.Redoc !== undefined")


def test_enterprise_registers_grants_two_sections_and_sees_who_looked(page: Any, live: Live) -> None:
    log_in(page, live.users["registering"])
    page.click("nav.menu >> text=实名注册")
    page.fill("#legal_rep_name", "张三")
    page.fill("#legal_rep_id", resident_id(seq=321))
    page.click("#register")
    assert page.inner_text("#registration-state") == "已核验"  # matches the registry's representative
    page.click("nav.menu >> text=数据授权")
    page.select_option("#grantee", label=live.bank_name)
    page.check("#sections input[value=tax]")
    page.check("#sections input[value=judicial]")
    page.select_option("#purpose", "credit_assessment")
    page.click("#grant")
    assert "司法、纳税" in page.locator("#grants tbody tr").first.inner_text()  # scopes stored sorted

    page.click("#logout")  # the bank looks at the card: only the two sections
    log_in(page, live.users["bank"])
    page.click("nav.menu >> text=信用信息名片")
    page.fill("#uscc", live.card_uscc)
    page.click("#show-card")
    shown = page.eval_on_selector_all("[data-section]", "els => els.map(e => e.dataset.section)")
    assert shown == ["tax", "judicial"]
    page.click("#logout")

    log_in(page, live.users["registering"])
    page.click("nav.menu >> text=谁查看了我的数据")
    views = page.inner_text("#card-views")
    assert live.bank_name in views and "纳税、司法" in views
    assert "credit.card.view" in page.inner_text("#data-reads")


def test_registration_waits_for_the_supervisor_who_verifies_it_in_the_console(page: Any, live: Live) -> None:
    log_in(page, live.users["unmatched"])
    page.click("nav.menu >> text=实名注册")
    page.fill("#legal_rep_name", "李四")
    page.fill("#legal_rep_id", resident_id(seq=654))  # not the registry's representative
    page.click("#register")
    assert page.inner_text("#registration-state") == "待审核"
    page.click("#logout")

    log_in(page, live.users["supervisor"])
    page.click("nav.menu >> text=实名注册审核")
    row = page.locator("#registrations tbody tr", has_text="重庆待审科技有限公司")
    row.locator("select[name=decision]").select_option("verified")
    row.locator("input[name=reason]").fill("电话核实法定代表人")
    row.locator("button.decide").click()
    assert page.locator("#registrations tbody tr", has_text="重庆待审科技有限公司").count() == 0
    page.click("#logout")

    log_in(page, live.users["unmatched"])
    page.click("nav.menu >> text=实名注册")
    assert page.inner_text("#registration-state") == "已核验"
    assert "电话核实法定代表人" in page.inner_text("#registration")
