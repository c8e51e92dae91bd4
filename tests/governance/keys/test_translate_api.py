"""POST /api/v1/keys/translate after a real rotation of a small lake, on SQLite and PostgreSQL.

Expected tokens come from the lake itself (what the rotation wrote for the same row) and from the chaining
rule written out by hand, never from the function under test."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.config import Settings, load_settings
from jinyu.core.auth import ROLE_PERMISSIONS, SYSTEM, OrgKind, Perm, Role
from jinyu.governance.keys import service
from jinyu.governance.policy.protect import current
from jinyu.governance.policy.rules import Action
from jinyu.models import metadata
from tests.fixtures.auth import login, make_org, make_user

from .region import KEY1, Region, build

URL = "/api/v1/keys/translate"


@pytest.fixture
def region(session: Session, tmp_path: Path) -> Region:
    (tmp_path / "hub").mkdir()
    return build(session, tmp_path / "hub")


@pytest.fixture
def settings(region: Region) -> Settings:
    # The hub whose lake and keys the region wrote; version 1 is the region's key.
    return load_settings(data_dir=region.lake_root.parent, pseudonym_key=KEY1.decode())


def _rotate(session: Session, region: Region, in_force_at: dt.datetime | None = None) -> None:
    stores = service.Stores(region.lake_root, region.keys_dir, region.ring, metadata)
    with service.exclusive(stores):
        service.rotate(session, SYSTEM, stores)
        session.commit()
        service.activate(stores, in_force_at)


def _by_hand(key: bytes, token: str, version: int) -> str:
    """The chaining rule as docs/data-security.md states it."""
    return f"pt_v{version}_" + hmac.new(key, b"rotate\x1f" + token.encode(), hashlib.sha256).hexdigest()[:32]


def _person_accounts(lake_root: Path) -> dict[str, str]:
    """The lake's person-held accounts and their owner tokens, as stored now."""
    sql = f"""select account_no, owner_id from read_parquet('{lake_root}/accounts/**/*.parquet',
              hive_partitioning=true) where owner_type = 'person' order by account_no"""
    with duckdb.connect() as con:
        return {a: o for a, o in con.sql(sql).fetchall()}


def _headers(client: TestClient, session: Session, kind: OrgKind, role: Role) -> dict[str, str]:
    user = make_user(session, make_org(session, kind), role)
    session.commit()
    return login(client, user.username)


def test_old_tokens_translate_to_what_the_lake_now_holds(
    session: Session, region: Region, client: TestClient
) -> None:
    before = _person_accounts(region.lake_root)
    account, t1 = next(iter(before.items()))
    _rotate(session, region)
    t2 = _person_accounts(region.lake_root)[account]
    assert t2 != t1 and t2 == _by_hand(region.ring().key(2), t1, 2)  # the rotation rewrote that row
    newer = "pt_v3_" + "0" * 32  # a version this hub has not issued
    bank = _headers(client, session, OrgKind.BANK_HEAD_OFFICE, Role.BANK_HQ_RISK)
    resp = client.post(URL, headers=bank, json={"tokens": [t1, t2, newer, t1]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["current_version"], body["grace_days"]) == (2, 90)
    got = [(i["token"], i["version"], i["current_token"], i["error"], i["expired_on"]) for i in body["items"]]
    assert got == [
        (t1, 1, t2, None, None),
        (t2, 2, t2, "already_current", None),
        (newer, 3, None, "unknown_version", None),
        (t1, 1, t2, None, None),
    ]
    # Tokens are not tenant-scoped: another organisation of another kind gets the very same answer.
    hospital = _headers(client, session, OrgKind.HOSPITAL, Role.HOSPITAL_SYSTEM)
    assert client.post(URL, headers=hospital, json={"tokens": [t1, t2, newer, t1]}).json() == body
    # Audited: counts by version and outcome; the answered current tokens as subject ids, nothing else.
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys.translate")).all()
    assert len(entries) == 2
    entry = entries[0]
    assert json.loads(entry.subject_ids) == [t2]
    assert json.loads(entry.detail) == {
        "tokens": 4,
        "current_version": 2,
        "versions": {"v1": 2, "v2": 1, "v3": 1},
        "outcomes": {"already_current": 1, "translated": 2, "unknown_version": 1},
    }
    assert t1 not in entry.detail and newer not in entry.subject_ids + entry.detail


def test_tokens_past_the_grace_period_are_refused_with_the_date(
    session: Session, region: Region, client: TestClient
) -> None:
    account, t1 = next(iter(_person_accounts(region.lake_root).items()))
    in_force = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)  # version 2 came in 100 days ago; grace 90
    _rotate(session, region, in_force)
    t2 = _person_accounts(region.lake_root)[account]
    insurer = _headers(client, session, OrgKind.INSURER, Role.INSURER_STAFF)
    resp = client.post(URL, headers=insurer, json={"tokens": [t1, t2]})
    assert resp.status_code == 200, resp.text
    old, now = resp.json()["items"]
    assert (old["error"], old["current_token"]) == ("expired", None)
    assert dt.datetime.fromisoformat(old["expired_on"]) == in_force + dt.timedelta(days=90)
    assert (now["error"], now["current_token"]) == ("already_current", t2)


def test_bad_requests_are_refused_field_by_field(session: Session, client: TestClient) -> None:
    bank = _headers(client, session, OrgKind.REGULATOR, Role.REGULATOR_ANALYST)
    good = "pt_" + "a" * 32
    for tokens, field in (
        ([good, "pt_XYZ"], "tokens.1"),  # not a token
        ([good, "pt_v0_" + "a" * 32], "tokens.1"),  # versions start at 1
        ([good.upper()], "tokens.0"),
        ([], "tokens"),
        ([good] * 1001, "tokens"),
    ):
        resp = client.post(URL, headers=bank, json={"tokens": tokens})
        assert resp.status_code == 422, tokens
        assert [e["field"] for e in resp.json()["errors"]] == [field], resp.text
    assert client.post(URL, headers=bank, json={"tokens": [good] * 1000}).status_code == 200
    provider = _headers(client, session, OrgKind.BUREAU, Role.DATA_PROVIDER)
    assert client.post(URL, headers=provider, json={"tokens": [good]}).status_code == 403
    assert client.post(URL, json={"tokens": [good]}).status_code == 401


def test_the_permission_follows_who_is_shown_person_tokens() -> None:
    """The roles that may translate are exactly those the policy shows person tokens in clear."""
    shown = {r.value for r in Role if current().decide("person_token", [r.value])[0] is Action.CLEAR}
    allowed = {r.value for r, perms in ROLE_PERMISSIONS.items() if Perm.KEYS_TRANSLATE in perms}
    assert allowed == shown
