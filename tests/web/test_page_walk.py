"""Every console page with every role, as the API's access walk does for endpoints: a visitor without a session
is sent to the login page, a role without the page's permission gets 403, a role with it gets the page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import ROLE_ORG_KINDS, ROLE_PERMISSIONS, OrgKind, Perm, Role
from jinyu.web.i18n import TEXT
from jinyu.web.render import MENU
from tests.fixtures.auth import make_org, make_user
from tests.web.console import console_login

# Every page a GET reaches, with the permission it needs. The walk fails when the menu has a page missing here.
BRANCHES = (OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET)

PAGES: dict[str, Perm] = {
    "/console": Perm.ORG_READ,
    "/console/risk": Perm.RISK_STATS,
    "/console/statements": Perm.RISK_QUERY,
    "/console/loans": Perm.RISK_QUERY,
    "/console/batch": Perm.RISK_QUERY,
    "/console/inquiries": Perm.RISK_QUERY,
    "/console/card": Perm.CREDIT_CARD_READ,
    "/console/claims": Perm.CLAIM_REPORT,
    "/console/settlements": Perm.CLAIM_READ,
    "/console/registration": Perm.ENTERPRISE_REGISTER,
    "/console/consents": Perm.CONSENT_READ,
    "/console/data-access": Perm.ENTERPRISE_REGISTER,
    "/console/registrations": Perm.ENTERPRISE_REVIEW,
    "/console/orders": Perm.FINANCING_READ,
    "/console/chains": Perm.CHAIN_READ,
    "/console/governance": Perm.GOVERNANCE_READ,
    "/console/joint": Perm.JOINT_READ,
    "/console/audit": Perm.AUDIT_READ,
}


@pytest.fixture
def users(session: Session) -> dict[Role, str]:
    orgs = {kind: make_org(session, kind) for kind in OrgKind if kind not in BRANCHES}
    orgs[OrgKind.BANK_BRANCH] = make_org(session, OrgKind.BANK_BRANCH, parent=orgs[OrgKind.BANK_HEAD_OFFICE])
    orgs[OrgKind.BANK_OUTLET] = make_org(session, OrgKind.BANK_OUTLET, parent=orgs[OrgKind.BANK_BRANCH])
    out = {}
    for role in Role:
        kind = next(k for k in sorted(ROLE_ORG_KINDS[role]) if k in orgs)
        out[role] = make_user(session, orgs[kind], role).username
    session.commit()
    return out


def test_every_menu_page_is_walked() -> None:
    assert {path for path, _, _ in MENU} == set(PAGES)
    assert all(PAGES[path] == perm for path, _, perm in MENU)


def test_without_a_session_every_page_sends_to_the_login(client: TestClient) -> None:
    for path in PAGES:
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/console/login?next=")


def test_walk_every_page_with_every_role(client: TestClient, users: dict[Role, str]) -> None:
    failures = []
    for role, username in users.items():
        console_login(client, username)
        menu = client.get("/console").text
        for path, perm in PAGES.items():
            resp = client.get(path)
            allowed = perm in ROLE_PERMISSIONS[role]
            expected = 200 if allowed else 403
            if resp.status_code != expected:
                failures.append(f"{role} {path} → {resp.status_code}, expected {expected}")
            if resp.headers["content-type"].startswith("text/html") is False:
                failures.append(f"{role} {path}: not a page")
            if path != "/console" and (f'href="{path}"' in menu) != allowed:
                failures.append(f"{role}: menu and permission disagree on {path}")
    assert not failures, "\n".join(failures)


def test_pages_speak_chinese_first_and_english_on_request(client: TestClient, users: dict[Role, str]) -> None:
    console_login(client, users[Role.REGULATOR_ANALYST])
    zh = client.get("/console/risk").text
    assert '<html lang="zh-CN">' in zh and TEXT["risk"][0] in zh
    client.get("/console/lang", params={"to": "en", "next": "/console/risk"})
    en = client.get("/console/risk").text
    assert '<html lang="en">' in en and TEXT["risk"][1] in en
    for page in (zh, en):  # an untranslated key would show as itself
        assert ">risky_amount<" not in page and ">from_month<" not in page


# Pages of one object, reached from a menu page's list: a role with the permission gets the page, or, for an
# object it may not see (here one that does not exist), the not-found page; a role without it gets 403.
OBJECT_PAGES: dict[str, Perm] = {
    "/console/orders/no-such-order": Perm.FINANCING_READ,
    "/console/batch/no-such-batch": Perm.RISK_QUERY,
    "/console/batch/no-such-batch/csv": Perm.RISK_QUERY,
}


def test_walk_object_pages_with_every_role(client: TestClient, users: dict[Role, str]) -> None:
    failures = []
    for role, username in users.items():
        console_login(client, username)
        for path, perm in OBJECT_PAGES.items():
            resp = client.get(path)
            expected = 404 if perm in ROLE_PERMISSIONS[role] else 403
            if resp.status_code != expected or not resp.headers["content-type"].startswith("text/html"):
                failures.append(f"{role} {path} → {resp.status_code}, expected {expected} (a page)")
    assert not failures, "\n".join(failures)
    client.cookies.clear()
    for path in OBJECT_PAGES:
        assert client.get(path, follow_redirects=False).status_code == 303  # to the login
