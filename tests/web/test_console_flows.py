"""Main flows through the console's forms, on committed data: an enterprise grants a bank access and revokes it;
an insurer and a hospital read their prepaid book; another tenant's objects answer 404 pages."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from tests.claim.factories import world
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login, csrf_of


def test_enterprise_grants_and_revokes_through_the_forms(client: TestClient, session: Session) -> None:
    enterprise, other = make_org(session, OrgKind.ENTERPRISE), make_org(session, OrgKind.ENTERPRISE)
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="重庆测试银行")
    clerk = make_user(session, enterprise, Role.ENTERPRISE_ADMIN).username
    stranger = make_user(session, other, Role.ENTERPRISE_ADMIN).username
    officer = make_user(session, bank, Role.BANK_HQ_RISK).username
    session.commit()

    console_login(client, clerk)
    page = client.get("/console/consents")
    assert f'<option value="{bank.id}" data-level="0">重庆测试银行</option>' in page.text  # chosen by name
    until = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    form = {
        "csrf_token": csrf_of(page.text),
        "grantee_org_id": bank.id,
        "scopes": ["tax", "statements"],
        "purpose": "loan_review",
        "valid_until": until,
    }
    done = client.post("/console/consents", data=form)
    assert done.status_code == 200 and "重庆测试银行" in done.text
    grant_id = re.search(r'data-grant="([^"]+)"', done.text)
    assert grant_id is not None
    assert "对公流水、纳税" in done.text and f"{until} 23:59" in done.text  # end of day, Asia/Shanghai

    console_login(client, officer)  # the bank sees the grant, and may not grant
    seen = client.get("/console/consents")
    assert grant_id.group(1) in seen.text and 'id="grant-form"' not in seen.text

    console_login(client, stranger)  # another enterprise: the grant is not there for it
    token = csrf_of(client.get("/console/consents").text)
    foreign = client.post(
        f"/console/consents/{grant_id.group(1)}/revoke", data={"csrf_token": token, "reason": "x" * 5}
    )
    assert foreign.status_code == 404 and foreign.headers["content-type"].startswith("text/html")

    console_login(client, clerk)
    token = csrf_of(client.get("/console/consents").text)
    short = client.post(
        f"/console/consents/{grant_id.group(1)}/revoke", data={"csrf_token": token, "reason": ""}
    )
    assert short.status_code == 422 and "reason" in short.text
    revoked = client.post(
        f"/console/consents/{grant_id.group(1)}/revoke", data={"csrf_token": token, "reason": "贷款已结清"}
    )
    assert revoked.status_code == 200 and 'data-state="revoked">已撤销<' in revoked.text


def test_grant_form_refuses_bad_input_with_the_field(client: TestClient, session: Session) -> None:
    clerk = make_user(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN).username
    session.commit()
    console_login(client, clerk)
    token = csrf_of(client.get("/console/consents").text)
    resp = client.post(
        "/console/consents",
        data={
            "csrf_token": token,
            "grantee_org_id": "x",
            "purpose": "loan_review",
            "valid_until": "31/12/2099",
        },
    )
    assert resp.status_code == 422 and "valid_until" in resp.text


def test_prepaid_book_shows_to_its_insurer_and_hospital_only(client: TestClient, session: Session) -> None:
    mine = world(session, deposit="1234567.80")
    other = world(session, deposit="999.00")
    hospital_user = make_user(session, mine.hospital, Role.HOSPITAL_SYSTEM).username
    session.commit()
    for username in (mine.insurer_staff.username, hospital_user):
        console_login(client, username)
        page = client.get("/console/settlements")
        assert page.status_code == 200
        assert "¥1,234,567.80" in page.text  # yuan, two decimals, thousands separators
        assert "¥999.00" not in page.text and other.hospital.name not in page.text
        # the book's accounts named for people; the insurer's own money (`bank`, the contra entry) not shown
        assert '<span data-account="prepaid">可用预付金: ¥1,234,567.80</span>' in page.text
        assert 'data-account="bank"' not in page.text and "-1,234,567.80" not in page.text


def test_risk_page_says_where_its_figures_come_from_while_there_are_none(
    client: TestClient, session: Session
) -> None:
    analyst = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST).username
    session.commit()
    console_login(client, analyst)
    page = client.get("/console/risk")
    assert page.status_code == 200 and 'id="risk-empty"' in page.text and "贷款资金核查" in page.text
    filtered = client.get("/console/risk", params={"from_month": "2020-01", "to_month": "2020-02"})
    assert 'id="risk-empty"' not in filtered.text and "暂无数据" in filtered.text
