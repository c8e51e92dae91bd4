"""The enterprise's and the bank's pages through their forms, on committed data: an enterprise registers, grants a
bank two card sections and sees the bank's look; the bank sees only those sections, runs a batch (page and CSV)
and finds it in its inquiry history."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.party import service as party
from jinyu.party.rules import RegistrationState
from jinyu.party.schemas import RegistrationDecision
from tests.credit import region
from tests.fixtures.auth import make_org, make_user, principal, resident_id
from tests.risk.tracing.lake import golden_rows, write
from tests.web.console import console_login, csrf_of


def _verify_registration(session: Session, org_id: str) -> None:
    """The regulator's decision (the reviewer's part is the API's, not the enterprise's pages)."""
    supervisor = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    reg = party.list_registrations(session, supervisor, "pending", 200, 0).items
    mine = next(r for r in reg if r.org_id == org_id)
    party.decide_registration(
        session,
        supervisor,
        mine.id,
        RegistrationDecision(state=RegistrationState.VERIFIED, reason="人工核验通过"),
    )
    session.commit()


def test_register_grant_two_sections_and_see_who_looked(
    client: TestClient, session: Session, settings: Settings
) -> None:
    region.load(settings.lake_dir)
    ent = make_org(session, OrgKind.ENTERPRISE, code=region.E1, name="重庆甲乙科技有限公司")
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="渝州测试银行")
    clerk = make_user(session, ent, Role.ENTERPRISE_ADMIN).username
    officer = make_user(session, bank, Role.BANK_HQ_RISK).username
    session.commit()

    console_login(client, clerk)
    page = client.get("/console/registration")
    assert 'id="registration-form"' in page.text
    bad = client.post(
        "/console/registration",
        data={"csrf_token": csrf_of(page.text), "legal_rep_name": "张三", "legal_rep_id": "123"},
    )
    assert bad.status_code == 422 and "legal_rep_id" in bad.text
    done = client.post(
        "/console/registration",
        data={
            "csrf_token": csrf_of(page.text),
            "legal_rep_name": "张三",
            "legal_rep_id": resident_id(seq=321),
        },
    )
    assert done.status_code == 200 and 'data-state="pending"' in done.text and "待审核" in done.text
    assert resident_id(seq=321) not in done.text and "张*" in done.text  # shown masked only
    assert 'id="registration-form"' not in done.text  # pending: nothing more to submit
    waiting = client.get("/console/data-access")
    assert waiting.status_code == 200 and "须先完成实名注册" in waiting.text
    _verify_registration(session, ent.id)

    consents = client.get("/console/consents")
    until = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    form = {"csrf_token": csrf_of(consents.text), "grantee_org_id": bank.id, "scopes": ["tax", "judicial"],
            "purpose": "credit_assessment", "valid_until": until}  # fmt: skip
    granted = client.post("/console/consents", data=form)
    assert granted.status_code == 200 and "司法、纳税" in granted.text

    console_login(client, officer)
    card = client.get("/console/card", params={"uscc": region.E1, "purpose": "credit_assessment"})
    assert card.status_code == 200, card.text
    shown = {s for s in ("registration", "tax", "headcount", "ip", "judicial", "penalties")
             if f'data-section="{s}"' in card.text}  # fmt: skip
    assert shown == {"tax", "judicial"}
    # Tax detail is level 5: without a supervisor's approval on the grant the page says so and shows no figure.
    assert 'data-section="tax" data-status="withheld"' in card.text and "1650.00" not in card.text
    assert "需监管主管在授权上审批后可见" in card.text
    other_purpose = client.get("/console/card", params={"uscc": region.E1, "purpose": "loan_review"})
    assert other_purpose.status_code == 404  # no grant for that purpose

    console_login(client, clerk)
    seen = client.get("/console/data-access")
    assert seen.status_code == 200
    views = seen.text.split('id="card-views"')[1].split("</table>")[0]
    assert "渝州测试银行" in views and "纳税、司法" in views and "授权" in views
    reads = seen.text.split('id="data-reads"')[1].split("</table>")[0]
    assert "渝州测试银行" in reads and "credit.card.view" in reads


def test_batch_page_csv_and_inquiry_history(client: TestClient, session: Session, settings: Settings) -> None:
    hq = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=hq, code="B1")
    officer = make_user(session, hq, Role.BANK_HQ_RISK).username
    branch_officer = make_user(session, branch, Role.BANK_BRANCH_OFFICER).username
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())

    console_login(client, officer)
    token = csrf_of(client.get("/console/batch").text)
    period = {"csrf_token": token, "from_date": "2024-03-01", "to_date": "2024-03-31"}
    shown = client.post("/console/batch", data=period)
    assert shown.status_code == 200, shown.text
    assert 'id="batch-loans">2<' in shown.text and 'id="batch-risky">2<' in shown.text
    download = client.post("/console/batch", data={**period, "download": "csv"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert [r["loan_id"] for r in rows] == ["L1", "L2"] and {r["verdict"] for r in rows} == {"risky"}
    backwards = client.post(
        "/console/batch", data={**period, "from_date": "2024-03-31", "to_date": "2024-03-01"}
    )
    assert backwards.status_code == 422
    bad_token = client.post("/console/batch", data={**period, "csrf_token": "0" * 64})
    assert bad_token.status_code == 403

    history = client.get("/console/inquiries")
    assert (
        history.status_code == 200 and history.text.count('data-kind="batch"') == 2
    )  # the run and the download
    assert client.get("/console/inquiries", params={"kind": "banana"}).status_code == 422

    console_login(client, branch_officer)  # a branch sees its own officers' inquiries, not the head office's
    assert 'data-kind="batch"' not in client.get("/console/inquiries").text
