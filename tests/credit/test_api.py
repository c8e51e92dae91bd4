"""The card over HTTP, tried as its users would: consent scoping per section (table), the enterprise's own
view after real-name registration, revocation hiding sections at once, the access history, snapshots a bank
can cite, and the printable renderings."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.consent.models import Grant
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.party.schemas import OrgOut
from tests.credit import region
from tests.fixtures.auth import login, make_org, make_user, resident_id

ALL = ["registration", "tax", "headcount", "ip", "judicial", "penalties"]


@dataclass
class World:
    enterprise: OrgOut
    bank: OrgOut
    branch: OrgOut
    other_branch: OrgOut
    ent_h: dict[str, str]
    bank_h: dict[str, str]
    branch_h: dict[str, str]
    other_h: dict[str, str]
    supervisor_h: dict[str, str]
    insurer_h: dict[str, str]
    other_ent_h: dict[str, str]


@pytest.fixture
def world(client: TestClient, session: Session, settings: Settings) -> World:
    region.load(settings.lake_dir)
    ent = make_org(session, OrgKind.ENTERPRISE, code=region.E1, name="重庆甲乙科技有限公司")
    other_ent = make_org(session, OrgKind.ENTERPRISE, code=region.E2)
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    other_bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    other_branch = make_org(session, OrgKind.BANK_BRANCH, parent=other_bank)
    regulator = make_org(session, OrgKind.REGULATOR)
    insurer = make_org(session, OrgKind.INSURER)
    users = {
        "ent": make_user(session, ent, Role.ENTERPRISE_ADMIN),
        "bank": make_user(session, bank, Role.BANK_HQ_RISK),
        "branch": make_user(session, branch, Role.BANK_BRANCH_OFFICER),
        "other": make_user(session, other_branch, Role.BANK_BRANCH_OFFICER),
        "sup": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "ins": make_user(session, insurer, Role.INSURER_STAFF),
        "oent": make_user(session, other_ent, Role.ENTERPRISE_ADMIN),
    }
    session.commit()
    h = {k: login(client, u.username) for k, u in users.items()}
    return World(ent, bank, branch, other_branch, h["ent"], h["bank"], h["branch"], h["other"], h["sup"],
                 h["ins"], h["oent"])  # fmt: skip


def _grant(client: TestClient, w: World, scopes: list[str], purpose: str = "credit_assessment") -> str:
    resp = client.post(
        "/api/v1/consents",
        headers=w.ent_h,
        json={"grantee_org_id": w.bank.id, "scopes": scopes, "purpose": purpose,
              "valid_until": (utcnow() + dt.timedelta(days=30)).isoformat()},
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _register(client: TestClient, w: World) -> None:
    """Real-name registration as a new enterprise does it: submit, then the regulator verifies it."""
    resp = client.post(
        "/api/v1/registrations",
        headers=w.ent_h,
        json={"legal_rep_id": resident_id(seq=321), "legal_rep_name": "张三"},
    )
    assert resp.status_code == 201, resp.text
    reg = resp.json()
    assert reg["state"] == "pending"  # the test org has no registry token: manual review
    resp = client.post(
        f"/api/v1/registrations/{reg['id']}/decision",
        headers=w.supervisor_h,
        json={"state": "verified", "reason": "核对营业执照原件 / licence checked"},
    )
    assert resp.status_code == 200, resp.text


def _approve(client: TestClient, w: World, grant_id: str, level: int = 5) -> str:
    """A regulator supervisor's level approval on the grant (docs/data-security.md, "Level approvals")."""
    resp = client.post(
        f"/api/v1/consents/{grant_id}/approvals",
        headers=w.supervisor_h,
        json={"level": level, "reason": "授信审查需纳税明细 / tax detail for credit review",
              "valid_until": (utcnow() + dt.timedelta(days=20)).isoformat()},
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _card(client: TestClient, headers: dict[str, str], purpose: str = "credit_assessment") -> Any:
    return client.get(f"/api/v1/credit/cards/{region.E1}", headers=headers, params={"purpose": purpose})


def test_done_means(client: TestClient, session: Session, world: World) -> None:
    """Register, grant two sections; the bank sees those two and nothing else; revoking hides them at once;
    the enterprise sees both views in its access history."""
    w = world
    assert _card(client, w.ent_h).status_code == 403  # not yet registered
    assert _card(client, w.ent_h).json()["code"] == "registration_required"
    _register(client, w)
    own = _card(client, w.ent_h)
    assert own.status_code == 200 and own.json()["basis"] == "own" and list(own.json()["sections"]) == ALL
    assert _card(client, w.bank_h).status_code == 404  # no grant yet: the card is not disclosed
    grant_id = _grant(client, w, ["tax", "judicial"])
    seen = _card(client, w.bank_h)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert list(body["sections"]) == ["tax", "judicial"]
    assert body["not_shown"] == ["registration", "headcount", "ip", "penalties"]
    assert "registration" not in json.dumps(body["sections"], ensure_ascii=False)
    # Tax detail is level 5: a grant alone opens the section's hash, not its data (policy).
    tax = body["sections"]["tax"]
    assert (tax["status"], tax["data"]) == ("withheld", None) and tax["section_hash"]
    assert body["withheld"] == ["tax"]
    assert body["sections"]["judicial"]["data"]["dishonest_debtor"] is True
    approval = client.post(
        f"/api/v1/consents/{grant_id}/approvals",
        headers=w.supervisor_h,
        json={
            "level": 5,
            "reason": "贷前审查需纳税明细",
            "valid_until": (utcnow() + dt.timedelta(days=9)).isoformat(),
        },
    )
    assert approval.status_code == 201, approval.text
    approved = _card(client, w.bank_h).json()["sections"]["tax"]
    assert approved["status"] == "ok" and approved["data"]["latest_rating"] == "A"
    assert approved["section_hash"] == tax["section_hash"]
    # The branch of the same bank is covered by the head office's grant.
    assert list(_card(client, w.branch_h).json()["sections"]) == ["tax", "judicial"]
    resp = client.post(f"/api/v1/consents/{grant_id}/revoke", headers=w.ent_h, json={"reason": "不再合作"})
    assert resp.status_code == 200
    assert _card(client, w.bank_h).status_code == 404
    views = client.get(f"/api/v1/credit/cards/{region.E1}/views", headers=w.ent_h)
    assert views.status_code == 200, views.text
    bank_views = [v for v in views.json()["items"] if v["basis"] == "grant"]
    assert len(bank_views) == 3
    assert {v["viewer_org_id"] for v in bank_views} == {w.bank.id, w.branch.id}
    assert all(v["sections"] == ["tax", "judicial"] and v["grant_ids"] == [grant_id] for v in bank_views)
    assert all(v["purpose"] == "credit_assessment" for v in bank_views)
    # Banks do not read the enterprise's access history.
    assert client.get(f"/api/v1/credit/cards/{region.E1}/views", headers=w.bank_h).status_code == 404
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "credit.card.view")).all()
    assert len(entries) == 4  # own, bank twice (before and after the approval), branch
    withheld = [json.loads(e.detail or "{}")["withheld_sections"] for e in entries]
    assert sorted(withheld) == [[], [], [], ["tax"]]


# (case, setup, who, expected status, expected sections)
SCOPING = [
    ("no grant", [], "bank", 404, None),
    ("one section", [(["penalties"], "credit_assessment", 30, False)], "bank", 200, ["penalties"]),
    ("patents scope opens ip", [(["patents"], "credit_assessment", 30, False)], "bank", 200, ["ip"]),
    ("other purpose", [(["tax"], "loan_review", 30, False)], "bank", 404, None),
    ("expired", [(["tax"], "credit_assessment", -1, False)], "bank", 404, None),
    ("revoked", [(["tax"], "credit_assessment", 30, True)], "bank", 404, None),
    ("two grants add up", [(["tax"], "credit_assessment", 30, False), (["ip"], "credit_assessment", 30, False)],
     "bank", 200, ["tax", "ip"]),
    ("own branch", [(["headcount"], "credit_assessment", 30, False)], "branch", 200, ["headcount"]),
    ("another bank's branch", [(["tax", "ip"], "credit_assessment", 30, False)], "other", 404, None),
    ("another enterprise", [(["tax"], "credit_assessment", 30, False)], "other_ent", 404, None),
    ("insurer", [(["tax"], "credit_assessment", 30, False)], "insurer", 403, None),
    ("regulator", [], "supervisor", 200, ALL),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "grants", "who", "status", "sections"), SCOPING, ids=[c[0] for c in SCOPING]
)
def test_consent_scoping(
    client: TestClient,
    session: Session,
    world: World,
    case: str,
    grants: list[tuple[list[str], str, int, bool]],
    who: str,
    status: int,
    sections: list[str] | None,
) -> None:
    w = world
    for scopes, purpose, days, revoked in grants:
        grant_id = _grant(client, w, scopes, purpose)
        if days < 0:  # expired: the grant's window ended yesterday (written as the clock would have left it)
            row = session.get(Grant, grant_id)
            assert row is not None
            row.valid_from, row.valid_until = (
                utcnow() - dt.timedelta(days=10),
                utcnow() - dt.timedelta(days=1),
            )
            session.commit()
        if revoked:
            client.post(f"/api/v1/consents/{grant_id}/revoke", headers=w.ent_h, json={"reason": "撤销测试"})
    headers = {"bank": w.bank_h, "branch": w.branch_h, "other": w.other_h, "other_ent": w.other_ent_h,
               "insurer": w.insurer_h, "supervisor": w.supervisor_h}[who]  # fmt: skip
    resp = _card(client, headers)
    assert resp.status_code == status, (case, resp.text)
    assert resp.headers["content-type"].startswith(
        "application/json" if status == 200 else "application/problem"
    )
    if sections is not None:
        assert list(resp.json()["sections"]) == sections
        assert sorted(resp.json()["not_shown"]) == sorted(set(ALL) - set(sections))


def test_snapshots_are_versioned_and_citable(client: TestClient, world: World) -> None:
    w = world
    _grant(client, w, ["tax", "ip"])
    first = _card(client, w.bank_h).json()
    again = _card(client, w.bank_h).json()
    snap = first["snapshot"]
    # Tax is withheld (no level approval): no data and no salt, but its hash still counts in the whole.
    assert first["sections"].pop("tax")["salt"] is None and "tax" in snap["section_hashes"]
    assert snap["version"] == again["snapshot"]["version"] == 1  # unchanged card: same version
    assert snap["content_hash"] == again["snapshot"]["content_hash"]
    # The bank checks what it saw against the cited hash (the algorithm in docs/credit-card.md).
    for name, section in first["sections"].items():
        if section["status"] == "withheld":
            continue
        content = {k: section[k] for k in ("status", "source", "data")}
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(bytes.fromhex(section["salt"]) + canonical).hexdigest()
        assert digest == snap["section_hashes"][name] == section["section_hash"]
    header = {
        "format": snap["card_format"],
        "uscc": region.E1,
        "version": 1,
        "sections": snap["section_hashes"],
    }
    whole = hashlib.sha256(json.dumps(header, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert whole == snap["content_hash"]
    cited = client.get(f"/api/v1/credit/cards/{region.E1}/snapshots/1", headers=w.bank_h)
    assert cited.status_code == 200 and cited.json()["sections"] == again["sections"]
    listed = client.get(f"/api/v1/credit/cards/{region.E1}/snapshots", headers=w.bank_h).json()
    assert [s["version"] for s in listed["items"]] == [1]
    missing = client.get(f"/api/v1/credit/cards/{region.E1}/snapshots/9", headers=w.bank_h)
    assert missing.status_code == 404 and missing.json()["code"] == "credit_snapshot_not_found"


def test_tax_is_level_gated(client: TestClient, session: Session, world: World) -> None:
    """The tax section is level-5 data: a bank's grant opens it, but its data shows only with a regulator
    supervisor's level-5 approval on that grant (level 4 is not enough); the enterprise and regulators read it
    always; every view's audit entry names the approval (or none) and what was withheld."""
    w = world
    _register(client, w)
    grant_id = _grant(client, w, ["tax", "headcount"])
    bank = _card(client, w.bank_h).json()
    tax = bank["sections"]["tax"]
    assert (tax["status"], tax["data"], tax["salt"]) == ("withheld", None, None)
    assert bank["withheld"] == ["tax"] and bank["sections"]["headcount"]["status"] == "ok"
    assert tax["section_hash"] == bank["snapshot"]["section_hashes"]["tax"]  # the hash, never the salt
    level4_id = _approve(client, w, grant_id, level=4)
    assert _card(client, w.bank_h).json()["sections"]["tax"]["data"] is None  # level 4 < tax's level 5
    approval_id = _approve(client, w, grant_id, level=5)
    for headers in (w.bank_h, w.branch_h):  # the approval is on the tenant's grant: the branch reads it too
        body = _card(client, headers).json()
        assert body["withheld"] == [] and body["sections"]["tax"]["status"] == "ok"
        assert body["sections"]["tax"]["data"]["tax_paid_12m"] == "1650.00"
        assert body["sections"]["tax"]["data"]["latest_rating"] == "A"
        assert len(body["sections"]["tax"]["salt"]) == 32
    for headers in (w.ent_h, w.supervisor_h):  # own and statutory mandate: no approval needed
        body = _card(client, headers).json()
        assert body["withheld"] == [] and body["sections"]["tax"]["data"]["tax_paid_12m"] == "1650.00"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "credit.card.view")).all()
    details = [json.loads(e.detail) if isinstance(e.detail, str) else e.detail for e in entries]
    seen = Counter((tuple(d["withheld_sections"]), d["approval_id"], tuple(d["withheld"])) for d in details)
    assert seen == Counter(
        {
            (("tax",), None, ("enterprise_tax",)): 1,
            (("tax",), level4_id, ("enterprise_tax",)): 1,
            ((), approval_id, ()): 2,
            ((), None, ()): 2,
        }
    )
    assert {d["policy_version"] for d in details} == {"v2026.12.9"}


def test_an_approval_opens_tax_only_for_a_credit_purpose(client: TestClient, world: World) -> None:
    """The policy binds the bank's level-5 rule to credit purposes: the same approval on a matchmaking grant
    leaves the tax section withheld (docs/data-security.md, "Purpose in rules")."""
    w = world
    _register(client, w)
    grant_id = _grant(client, w, ["tax", "headcount"], purpose="financing_matchmaking")
    _approve(client, w, grant_id, level=5)
    body = _card(client, w.bank_h, purpose="financing_matchmaking").json()
    assert body["withheld"] == ["tax"] and body["sections"]["tax"]["data"] is None
    assert body["sections"]["headcount"]["status"] == "ok"
    credit_grant = _grant(client, w, ["tax", "headcount"], purpose="credit_assessment")
    _approve(client, w, credit_grant, level=5)
    assert _card(client, w.bank_h).json()["sections"]["tax"]["data"]["tax_paid_12m"] == "1650.00"


def test_printable_renderings(client: TestClient, world: World) -> None:
    w = world
    grant_id = _grant(client, w, ["tax", "penalties"])
    page = client.get(f"/api/v1/credit/cards/{region.E1}/print.html", headers=w.bank_h)
    assert "已按数据安全策略隐去" in page.text and "1650.00" not in page.text  # tax is level 5
    _approve(client, w, grant_id)
    page = client.get(f"/api/v1/credit/cards/{region.E1}/print.html", headers=w.bank_h)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "纳税 / Tax" in page.text and "行政处罚" in page.text and "工商登记" not in page.text
    assert "1650.00" in page.text  # tax paid over the last 12 months, under the level-5 approval
    own = client.get(f"/api/v1/credit/cards/{region.E1}/print.html", headers=w.supervisor_h)
    assert "1650.00" in own.text  # the regulator's print needs no approval
    pdf = client.get(f"/api/v1/credit/cards/{region.E1}/print.pdf", headers=w.bank_h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")  # its font and text: test_pdf.py
    assert client.get(f"/api/v1/credit/cards/{region.E1}/print.pdf", headers=w.other_h).status_code == 404


def test_bad_uscc_is_a_field_error(client: TestClient, world: World) -> None:
    resp = client.get("/api/v1/credit/cards/91500000MA00000000", headers=world.bank_h)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
