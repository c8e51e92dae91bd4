"""The regulator's registration review page: an enterprise whose representative does not match the registry waits
for review; the supervisor verifies it in the console; the enterprise then sees its own data-access page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import make_org, make_user, resident_id
from tests.web.console import console_login, csrf_of


def test_supervisor_verifies_a_pending_registration(client: TestClient, session: Session) -> None:
    ent = make_org(session, OrgKind.ENTERPRISE, name="重庆待审科技有限公司")
    clerk = make_user(session, ent, Role.ENTERPRISE_ADMIN).username
    regulator = make_org(session, OrgKind.REGULATOR)
    supervisor = make_user(session, regulator, Role.REGULATOR_SUPERVISOR).username
    analyst = make_user(session, regulator, Role.REGULATOR_ANALYST).username
    session.commit()

    console_login(client, clerk)
    form = {"csrf_token": csrf_of(client.get("/console/registration").text), "legal_rep_name": "李四",
            "legal_rep_id": resident_id(seq=654)}  # fmt: skip
    assert 'data-state="pending"' in client.post("/console/registration", data=form).text
    assert "须先完成实名注册" in client.get("/console/data-access").text

    console_login(client, analyst)  # an analyst may not decide
    assert client.get("/console/registrations").status_code == 403
    console_login(client, supervisor)
    page = client.get("/console/registrations")
    assert (
        page.status_code == 200
        and "重庆待审科技有限公司" in page.text
        and 'data-state="pending"' in page.text
    )
    assert resident_id(seq=654) not in page.text  # the representative's ID shown masked only
    action = page.text.split('action="/console/registrations/')[1].split('"')[0]
    url = f"/console/registrations/{action}"
    token = csrf_of(page.text)
    no_reason = client.post(url, data={"csrf_token": token, "decision": "verified", "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    suspend = {"csrf_token": token, "decision": "suspended", "reason": "理由"}
    assert client.post(url, data=suspend).status_code == 422  # the page decides verify or reject only
    forged = {"csrf_token": "0" * 64, "decision": "verified", "reason": "人工核验"}
    assert client.post(url, data=forged).status_code == 403
    done = client.post(url, data={"csrf_token": token, "decision": "verified", "reason": "人工核验通过"})
    assert done.status_code == 200 and 'data-state="pending"' not in done.text  # back to the list: none waits
    assert 'data-state="verified"' in client.get("/console/registrations", params={"state": "verified"}).text
    assert client.get("/console/registrations", params={"state": "banana"}).status_code == 422

    console_login(client, clerk)
    assert "已核验" in client.get("/console/registration").text
    assert "须先完成实名注册" not in client.get("/console/data-access").text
