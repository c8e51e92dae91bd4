"""The financing work order page in a real browser: an enterprise's demand (made over the API, as its system
would) reaches the bank; the bank's officer opens it from the orders page, accepts it and records the contact
through the page's form; the regulator then finds the order with both steps on its timeline. Bounded in time:
every browser wait by the context's 10 s default (conftest), the API calls by httpx's 10 s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.auth import PASSWORD
from tests.web.browser.conftest import Live
from tests.web.browser.test_console_browser import log_in

pytestmark = pytest.mark.browser


def _demand(live: Live) -> str:
    """The enterprise's demand of ¥1,800,000.00 naming the bank; its work order's id."""
    with httpx.Client(base_url=live.url, timeout=10) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": live.users["enterprise"], "password": PASSWORD}
        )
        assert token.status_code == 200, token.text
        body = {
            "amount": "1800000.00",
            "term_months": 12,
            "purpose": "采购原材料 / raw materials",
            "security": "collateral",
            "security_note": "厂房抵押",
            "preferred_bank_ids": [live.bank_id],
        }
        resp = api.post(
            "/api/v1/financing/demands",
            json=body,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert resp.status_code == 201, resp.text
        return str(resp.json()["order"]["id"])


def _step(page: Any, action: str, note: str) -> None:
    page.select_option("#order-steps select[name=action]", action)
    page.fill("#order-steps input[name=note]", note)
    page.click("#order-steps button[type=submit]")
    page.wait_for_selector(f"#order-events tr[data-action={action}]")


def test_bank_accepts_and_contacts_an_order_and_the_regulator_sees_it(page: Any, live: Live) -> None:
    order_id = _demand(live)
    log_in(page, live.users["bank"])
    page.click("nav.menu >> text=融资工单")
    page.click(f"a[href='/console/orders/{order_id}']")
    assert page.get_attribute("#order-state", "data-state") == "dispatched"
    assert page.inner_text("#amount-requested") == "¥1,800,000.00"
    _step(page, "accept", "已受理，安排客户经理")
    assert page.get_attribute("#order-state", "data-state") == "accepted"
    _step(page, "contact", "已电话联系财务负责人")
    assert page.get_attribute("#order-state", "data-state") == "contacted"
    assert "已对接" in page.inner_text("#order-state")
    page.click("#logout")

    log_in(page, live.users["regulator"])
    page.click("nav.menu >> text=融资工单")
    page.click(f"a[href='/console/orders/{order_id}']")
    assert page.get_attribute("#order-state", "data-state") == "contacted"
    actions = page.eval_on_selector_all("#order-events tbody tr", "rows => rows.map(r => r.dataset.action)")
    assert actions[-2:] == ["accept", "contact"]
    assert "已电话联系财务负责人" in page.inner_text("#order-events")
    assert page.locator("#order-steps").count() == 0  # the regulator reads; it takes no bank step
