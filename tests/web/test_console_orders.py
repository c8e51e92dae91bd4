"""One work order in the console: its page shows status, product, amounts in yuan and the timeline; the bank
takes steps through forms (CSRF checked) that call the financing service the API calls; the enterprise sees
no bank step and another enterprise does not see the order at all."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user
from tests.web.console import console_login, csrf_of

API = "/api/v1/financing"


def _order(client: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    """An enterprise's demand of ¥3,000,000.00, dispatched to its preferred bank; the users by part."""
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="渝银行")
    enterprise = make_org(session, OrgKind.ENTERPRISE, name="山城精密")
    other = make_org(session, OrgKind.ENTERPRISE)
    users = {
        "hq": make_user(session, bank, Role.BANK_HQ_RISK).username,
        "ent": make_user(session, enterprise, Role.ENTERPRISE_ADMIN).username,
        "ent2": make_user(session, other, Role.ENTERPRISE_ADMIN).username,
    }
    session.commit()
    body = {
        "amount": "3000000.00",
        "term_months": 12,
        "purpose": "采购原材料 / raw materials",
        "security": "collateral",
        "security_note": "厂房抵押",
        "preferred_bank_ids": [bank.id],
    }
    resp = client.post(f"{API}/demands", json=body, headers=login(client, users["ent"]))
    assert resp.status_code == 201, resp.text
    client.headers.pop("Authorization", None)
    return str(resp.json()["order"]["id"]), users


def _step(client: TestClient, oid: str, **form: str) -> int:
    page = client.get(f"/console/orders/{oid}").text
    data = {"csrf_token": csrf_of(page), **form}
    return client.post(f"/console/orders/{oid}/transitions", data=data, follow_redirects=False).status_code


def test_bank_walks_an_order_to_approval_in_the_console(client: TestClient, session: Session) -> None:
    oid, users = _order(client, session)
    console_login(client, users["hq"])
    listed = client.get("/console/orders").text
    assert f'href="/console/orders/{oid}"' in listed  # reachable from the list
    page = client.get(f"/console/orders/{oid}").text
    assert 'data-state="dispatched"' in page and "¥3,000,000.00" in page and "山城精密" in page
    assert (
        '<option value="accept">' in page and '<option value="approve">' not in page
    )  # what the state allows
    # Without the form's token: refused, nothing changes.
    forged = client.post(
        f"/console/orders/{oid}/transitions", data={"action": "accept"}, follow_redirects=False
    )
    assert forged.status_code == 403 and 'data-state="dispatched"' in forged.text
    for action in ("accept", "contact", "review"):
        assert _step(client, oid, action=action) == 303
    # Approval needs an amount (the API's rule, from the service); then the amount shows with separators.
    assert _step(client, oid, action="approve") == 422
    assert _step(client, oid, action="approve", amount_approved="1,200,000.00", note="按抵押率") == 303
    page = client.get(f"/console/orders/{oid}").text
    assert 'data-state="approved"' in page
    assert 'id="amount-approved">¥1,200,000.00<' in page
    timeline = page.split('id="order-events"')[1].split("</table>")[0]
    assert [
        a for a in ("dispatch", "accept", "contact", "review", "approve") if f'data-action="{a}"' in timeline
    ] == [
        "dispatch",
        "accept",
        "contact",
        "review",
        "approve",
    ]
    assert "按抵押率" in timeline
    # The API sees what the console did.
    api = client.get(f"{API}/orders/{oid}", headers=login(client, users["hq"])).json()
    assert api["state"] == "approved" and api["amount_approved"] == "1200000.00"


def test_enterprise_sees_its_order_without_bank_steps_and_rates_it(
    client: TestClient, session: Session
) -> None:
    oid, users = _order(client, session)
    console_login(client, users["ent2"])
    assert client.get(f"/console/orders/{oid}").status_code == 404  # another tenant's order
    console_login(client, users["ent"])
    page = client.get(f"/console/orders/{oid}").text
    assert 'id="order-steps"' not in page and 'id="order-rate"' not in page  # not decided yet
    assert (
        client.post(
            f"/console/orders/{oid}/transitions", data={"action": "accept", "csrf_token": csrf_of(page)}
        ).status_code
        == 403
    )  # no financing.handle
    # The bank refuses with a coded reason; then the enterprise may rate the service and re-dispatch.
    console_login(client, users["hq"])
    assert _step(client, oid, action="reject") == 422  # a rejection needs its reason code
    assert _step(client, oid, action="reject", reason_code="R02") == 303
    console_login(client, users["ent"])
    page = client.get(f"/console/orders/{oid}").text
    assert 'data-state="rejected"' in page and "抵押或担保不足" in page
    assert 'id="order-rate"' in page and 'id="order-redispatch"' in page
    form = {"stars": "4", "comment": "响应及时", "csrf_token": csrf_of(page)}
    assert client.post(f"/console/orders/{oid}/rating", data=form, follow_redirects=False).status_code == 303
    page = client.get(f"/console/orders/{oid}").text
    assert "★★★★<" in page and 'id="order-rate"' not in page  # rated once
    assert 'data-action="rate"' in page.split('id="order-events"')[1]
