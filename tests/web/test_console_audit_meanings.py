"""The console's audit search says what each action means (jinyu.audit.actions, the table docs/audit.md repeats),
in the visitor's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.audit.actions import MEANINGS
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login


def test_audit_search_shows_each_actions_meaning(client: TestClient, session: Session) -> None:
    analyst = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST).username
    session.commit()
    console_login(client, analyst)  # recorded as auth.login
    page = client.get("/console/audit", params={"action": "auth.login"})
    assert page.status_code == 200
    entries = page.text.split('id="audit-entries"')[1].split("</table>")[0]
    assert "<code>auth.login</code></td><td>登录（成功或失败）</td>" in entries
    assert 'id="action-meaning"><code>auth.login</code>: 登录（成功或失败）' in page.text
    # every action is offered in the search box's list and explained in the glossary below it
    glossary = page.text.split('id="action-meanings"')[1].split("</details>")[0]
    assert glossary.count("<tr data-action=") == len(MEANINGS)
    assert '<option value="risk.tracing.return_flow">核查贷款资金回流</option>' in page.text
    client.get("/console/lang", params={"to": "en", "next": "/console/audit?action=auth.login"})
    english = client.get("/console/audit", params={"action": "auth.login"}).text
    assert "<code>auth.login</code></td><td>a login (succeeded or failed)</td>" in english
    assert '<option value="risk.tracing.return_flow">checked a loan&#39;s return flow</option>' in english
