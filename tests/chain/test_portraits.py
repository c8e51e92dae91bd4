"""Batch portraits: the regulator sees every member; a bank receives only members whose grant to it, in force,
covers every portrait scope for the asked purpose; the rest are withheld without being named."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import U, rows, write

URL = "/api/v1/chains/new_display/portraits"
ALL_SCOPES = ["registration", "tax", "headcount", "judicial", "accounts"]


@pytest.fixture
def world(client: TestClient, session: Session, settings: Settings) -> dict[str, object]:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    ents = {n: make_org(session, OrgKind.ENTERPRISE, code=U[n]) for n in ("m1", "c", "m2")}
    users = {
        "bank": make_user(session, bank, Role.BANK_HQ_RISK),
        "branch": make_user(session, branch, Role.BANK_BRANCH_OFFICER),
        "other": make_user(session, other, Role.BANK_HQ_RISK),
        "regulator": make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST),
        **{n: make_user(session, org, Role.ENTERPRISE_ADMIN) for n, org in ents.items()},
    }
    session.commit()
    write(Lake(settings.lake_dir), rows())
    headers = {name: login(client, u.username) for name, u in users.items()}
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    for name, scopes, purpose in (
        ("m1", ALL_SCOPES, "credit_assessment"),  # everything a portrait needs
        ("c", ["tax", "headcount"], "credit_assessment"),  # not enough scopes
        ("m2", ALL_SCOPES, "loan_review"),  # another purpose
    ):
        grant = {"grantee_org_id": bank.id, "scopes": scopes, "purpose": purpose, "valid_until": until}
        resp = client.post("/api/v1/consents", headers=headers[name], json=grant)
        assert resp.status_code == 201, resp.text
    return headers


def test_a_bank_receives_only_members_that_authorised_it(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    for who in ("bank", "branch"):  # a grant to the bank covers its branches
        body = client.get(URL, headers=world[who], params={"as_of_month": "2024-03"}).json()
        assert [i["uscc"] for i in body["items"]] == [U["m1"]]
        assert (body["members"], body["exported"], body["withheld"]) == (5, 1, 4)
        assert body["items"][0]["health"]["flags"] == []
    loan_review = client.get(
        URL, headers=world["bank"], params={"as_of_month": "2024-03", "purpose": "loan_review"}
    )
    assert [i["uscc"] for i in loan_review.json()["items"]] == [U["m2"]]
    other = client.get(URL, headers=world["other"], params={"as_of_month": "2024-03"}).json()
    assert (other["exported"], other["items"]) == (0, [])


def test_the_regulator_sees_every_member_and_enterprises_none(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    body = client.get(URL, headers=world["regulator"], params={"as_of_month": "2024-03"}).json()
    assert body["exported"] == 5 and {i["basis"] for i in body["items"]} == {"regulator"}
    assert client.get(URL, headers=world["m1"], params={"as_of_month": "2024-03"}).status_code == 403


def test_a_revoked_grant_stops_the_export(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    grants = client.get("/api/v1/consents", headers=world["m1"]).json()["items"]
    resp = client.post(
        f"/api/v1/consents/{grants[0]['id']}/revoke", headers=world["m1"], json={"reason": "到期不续"}
    )
    assert resp.status_code == 200, resp.text
    body = client.get(URL, headers=world["bank"], params={"as_of_month": "2024-03"}).json()
    assert body["exported"] == 0


def test_exports_are_audited(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    client.get(URL, headers=world["bank"], params={"as_of_month": "2024-03"})
    entries = client.get(
        "/api/v1/audit/entries", headers=world["regulator"], params={"action": "chain.portraits.export"}
    ).json()["items"]
    assert entries and entries[0]["subject_ids"] == ["new_display", U["m1"]]


def test_tax_sums_reach_a_bank_only_under_a_level5_approval(
    client: TestClient,
    session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    def m1_health(who: str) -> dict:  # type: ignore[type-arg]
        body = client.get(URL, headers=world[who], params={"as_of_month": "2024-03"}).json()
        return next(i["health"] for i in body["items"] if i["uscc"] == U["m1"])  # type: ignore[no-any-return]

    regulator = m1_health("regulator")
    assert regulator["tax_12m"] is not None  # the regulator's statutory view: level 5 in clear
    before = m1_health("bank")
    assert (before["tax_12m"], before["tax_prev_12m"]) == (None, None)
    assert before["headcount_now"] == regulator["headcount_now"]  # level 3 stays clear
    # Derived from the withheld sums: the tax flag is left out and the verdict is not given (policy `derived`).
    assert before["flags"] == [f for f in regulator["flags"] if f != "tax_drop"]
    assert before["healthy"] is None and regulator["healthy"] is not None

    sup = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    session.commit()
    grant = next(g for g in client.get("/api/v1/consents", headers=world["m1"]).json()["items"])
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()
    sup_h = login(client, sup.username)
    made = client.post(
        f"/api/v1/consents/{grant['id']}/approvals",
        headers=sup_h,
        json={"level": 5, "reason": "链上授信需纳税明细", "valid_until": until},
    )
    assert made.status_code == 201, made.text
    after = m1_health("bank")
    assert (after["tax_12m"], after["tax_prev_12m"]) == (regulator["tax_12m"], regulator["tax_prev_12m"])
    assert (after["flags"], after["healthy"]) == (regulator["flags"], regulator["healthy"])
    # Revoked early: the next export withholds them again.
    revoked = client.post(
        f"/api/v1/consents/{grant['id']}/approvals/{made.json()['id']}/revoke",
        headers=sup_h,
        json={"reason": "授信已完成"},
    )
    assert revoked.status_code == 200, revoked.text
    assert m1_health("bank")["tax_12m"] is None


def test_portraits_carry_the_score_of_the_model_trained_six_months_earlier(
    client: TestClient,
    world: dict,  # type: ignore[type-arg]
) -> None:
    regulator = client.get(URL, headers=world["regulator"], params={"as_of_month": "2024-03"}).json()
    # Trained as of 2023-09 on the flags of 2024-03: m2 lost half its staff, d1 has an open case, r1 has no
    # head-count; m1 and c are fine. Not calibrated: the calibrated model would train on 2023-06, before
    # the lake's first head-count, where every member is distressed (one class), so the batch falls back.
    assert regulator["score_model"] == {
        "train_month": "2023-09",
        "train_size": 5,
        "train_bad": 3,
        "fitted": True,
        "calibration_month": None,
        "calibration_method": None,
    }
    for item in regulator["items"]:
        s = item["score"]
        logit = math.log(s["probability"] / (1 - s["probability"]))
        assert abs(s["points"] - (600 - 20 / math.log(2) * (logit + math.log(50)))) <= 0.51
        assert s["band"] == next(
            (b for b, floor in (("A", 640), ("B", 600), ("C", 560), ("D", 520)) if s["points"] >= floor), "E"
        )
        assert len(s["factors"]) <= 3 and all(f["points"] < 0 for f in s["factors"])
    bank = client.get(URL, headers=world["bank"], params={"as_of_month": "2024-03"}).json()
    assert [i["uscc"] for i in bank["items"]] == [U["m1"]]
    # The score rests partly on the tax change (level 5): without a level-5 approval the bank gets none.
    assert bank["items"][0]["score"] is None


def test_a_bank_gets_the_score_under_a_level5_approval(
    client: TestClient,
    session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    regulator = client.get(URL, headers=world["regulator"], params={"as_of_month": "2024-03"}).json()
    mine = next(i for i in regulator["items"] if i["uscc"] == U["m1"])
    sup = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    session.commit()
    grant = next(g for g in client.get("/api/v1/consents", headers=world["m1"]).json()["items"])
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()
    made = client.post(
        f"/api/v1/consents/{grant['id']}/approvals",
        headers=login(client, sup.username),
        json={"level": 5, "reason": "链上授信需评分", "valid_until": until},
    )
    assert made.status_code == 201, made.text
    bank = client.get(URL, headers=world["bank"], params={"as_of_month": "2024-03"}).json()
    assert bank["items"][0]["score"] == mine["score"]


def test_without_both_classes_in_the_training_month_portraits_carry_no_score(
    client: TestClient,
    world: dict,  # type: ignore[type-arg]
) -> None:
    # As of 2023-06 the model would train on 2022-12 against the flags of 2023-06: no data, one class.
    body = client.get(URL, headers=world["regulator"], params={"as_of_month": "2023-06"}).json()
    assert body["score_model"]["fitted"] is False and {i["score"] is None for i in body["items"]} == {True}
