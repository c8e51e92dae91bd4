"""Chain definitions edited by the regulator over HTTP (SQLite and PostgreSQL): versions, 409 on a stale edit,
422 with field errors, audit, and per-enterprise segment overrides seen by members and portraits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import U, rows, write

URL = "/api/v1/chains/new_display/definition"


@pytest.fixture
def who(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    regulator = make_org(session, OrgKind.REGULATOR)
    users = {
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
        "bank": make_user(session, make_org(session, OrgKind.BANK_HEAD_OFFICE), Role.BANK_HQ_RISK),
    }
    session.commit()
    write(Lake(settings.lake_dir), rows())
    return {name: login(client, u.username) for name, u in users.items()}


def _edit(body: dict[str, Any], **change: Any) -> dict[str, Any]:
    keep = ("name", "name_en", "chief_bank_name", "segments", "overrides")
    return {k: body[k] for k in keep} | change


def test_the_shipped_definition_is_version_0(client: TestClient, who: dict[str, dict[str, str]]) -> None:
    body = client.get(URL, headers=who["analyst"]).json()
    assert body["version"] == 0 and body["overrides"] == {} and body["updated_by"] is None
    assert [s["code"] for s in body["segments"]] == ["materials", "panels", "modules", "devices", "dealers"]
    assert body["segments"][1]["industries"] == ["C3974"]
    assert client.get(URL, headers=who["bank"]).status_code == 403
    assert client.get("/api/v1/chains/nope/definition", headers=who["analyst"]).status_code == 404


def test_an_edit_makes_a_new_version_and_a_stale_one_is_refused(
    client: TestClient, who: dict[str, dict[str, str]]
) -> None:
    read = client.get(URL, headers=who["supervisor"]).json()
    segments = read["segments"]
    segments[0]["industries"] = [*segments[0]["industries"], "C3990"]
    change = _edit(read, segments=segments, version=0, note="新增材料小类")
    assert client.put(URL, headers=who["analyst"], json=change).status_code == 403  # analysts only read
    resp = client.put(URL, headers=who["supervisor"], json=change)
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == 1 and "C3990" in resp.json()["segments"][0]["industries"]

    again = client.put(URL, headers=who["supervisor"], json=change | {"name": "另一个名字"})  # still from 0
    assert again.status_code == 409 and again.json()["code"] == "chain_definition_stale"
    now = client.get(URL, headers=who["analyst"]).json()
    assert (now["version"], now["name"], now["note"]) == (1, read["name"], "新增材料小类")
    versions = client.get(f"{URL}/versions", headers=who["analyst"]).json()
    assert [v["version"] for v in versions] == [1]
    # the chain list shows the current definition
    chains = client.get("/api/v1/chains", headers=who["analyst"]).json()
    materials = next(c for c in chains if c["code"] == "new_display")["segments"][0]
    assert materials["industries"][-1] == "C3990"
    entries = client.get(
        "/api/v1/audit/entries", headers=who["supervisor"], params={"action": "chain.definition.edit"}
    ).json()["items"]
    assert [(e["subject_ids"], e["detail"]["version"]) for e in entries] == [(["new_display"], 1)]


def test_field_errors_name_each_bad_field(client: TestClient, who: dict[str, dict[str, str]]) -> None:
    read = client.get(URL, headers=who["supervisor"]).json()
    segments = read["segments"]
    segments[0]["industries"] = ["3985"]  # no section letter
    segments[1]["code"] = "materials"  # twice
    segments[2]["industries"] = ["C3974"]  # already in panels
    bad = _edit(read, segments=segments, name=" ", overrides={U["m1"]: "nowhere", "123": "panels"}, version=0)
    resp = client.put(URL, headers=who["supervisor"], json=bad)
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == [
        "name",
        "segments[0].industries[0]",
        "segments[1].code",
        "segments[2].industries[0]",
        "overrides.123",  # overrides are kept, and checked, in USCC order
        f"overrides.{U['m1']}",
    ]
    assert client.get(URL, headers=who["analyst"]).json()["version"] == 0  # nothing written


def test_a_segment_override_moves_one_enterprise(client: TestClient, who: dict[str, dict[str, str]]) -> None:
    url = f"/api/v1/chains/new_display/members/{U['m1']}/segment"
    moved = client.put(
        url, headers=who["supervisor"], json={"version": 0, "segment": "panels", "note": "改派"}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["version"], moved.json()["overrides"]) == (1, {U["m1"]: "panels"})
    members = client.get("/api/v1/chains/new_display/members", headers=who["analyst"]).json()["items"]
    m1 = next(m for m in members if m["uscc"] == U["m1"])
    assert (m1["segment"], m1["dataset_segment"], m1["mapped_segment"]) == (
        "panels",
        "materials",
        "materials",
    )
    batch = client.get(
        "/api/v1/chains/new_display/portraits", headers=who["analyst"], params={"as_of_month": "2024-03"}
    ).json()
    assert next(i for i in batch["items"] if i["uscc"] == U["m1"])["segment"] == "panels"

    stale = client.put(url, headers=who["supervisor"], json={"version": 0, "segment": "modules"})
    assert stale.status_code == 409
    unknown = client.put(url, headers=who["supervisor"], json={"version": 1, "segment": "nowhere"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "segment"
    back = client.put(url, headers=who["supervisor"], json={"version": 1, "segment": None})
    assert (back.json()["version"], back.json()["overrides"]) == (2, {})
    assert (
        client.put(url, headers=who["analyst"], json={"version": 2, "segment": "panels"}).status_code == 403
    )
